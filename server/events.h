/* fleetyard-server: publishes the event outbox (schema/0011_events.sql) through the internal
 * link: a thread that every FY_EVENTS_POLL_MS takes the outbox's oldest rows, adds thingArn where
 * the row names a thing, publishes each on its topic and deletes what it published. While the
 * link is down the rows wait (at least once, in order). */
#ifndef FY_SERVER_EVENTS_H
#define FY_SERVER_EVENTS_H

#include "core/err.h"
#include "core/site.h"

#define FY_EVENTS_POLL_MS 50
#define FY_EVENTS_QOS     1

struct fy_link;
struct fy_events;

/* Starts the publisher on its own connection to db_path; *out is owned (fy_events_stop). */
FY_NODISCARD fy_err fy_events_start(const char *db_path,
                                    const struct fy_site *site,
                                    struct fy_link *link,
                                    struct fy_events **out,
                                    struct fy_errmsg *em);

/* Stops the thread and frees ev. NULL is a no-op. */
void fy_events_stop(struct fy_events *ev);

#endif
