/* fleetyard registry: the broker's retained messages (schema/0007_broker.sql).
 *
 * The plugin records every retained publish (an empty payload deletes the topic's message, as
 * MQTT defines); the HTTP API reads them (iot-data GetRetainedMessage, ListRetainedMessages).
 * db belongs to the calling thread.
 */
#ifndef FY_REGISTRY_RETAINED_H
#define FY_REGISTRY_RETAINED_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/db.h"
#include "core/err.h"

/* One retained message; owned strings (fy_retained_clear). */
struct fy_retained {
    char *topic;
    unsigned char *payload;
    size_t len;
    int qos;
    int64_t last_modified; /* epoch ms */
};

void fy_retained_clear(struct fy_retained *m);

/* Stores (len > 0) or deletes (len == 0) the retained message of topic. */
FY_NODISCARD fy_err fy_retained_put(struct fy_db *db,
                                    const char *topic,
                                    const void *payload,
                                    size_t len,
                                    int qos,
                                    int64_t now_ms,
                                    struct fy_errmsg *em);

/* The retained message of topic into *out; FY_ERR_NOT_FOUND when there is none. */
FY_NODISCARD fy_err fy_retained_get(struct fy_db *db,
                                    const char *topic,
                                    struct fy_retained *out,
                                    struct fy_errmsg *em);

/* Summaries {topic, payloadSize, qos, lastModifiedTime} in topic order after `after` (NULL =
 * from the start), at most limit, appended to the JSON array j_out; *next gets the last topic
 * (fy_free) when more follow, else NULL. */
FY_NODISCARD fy_err fy_retained_list(struct fy_db *db,
                                     const char *after,
                                     int64_t limit,
                                     json_t *j_out,
                                     char **next,
                                     struct fy_errmsg *em);

#endif
