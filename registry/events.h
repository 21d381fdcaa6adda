/* fleetyard registry: event configurations (UpdateEventConfigurations) and the event outbox.
 *
 * Which event types are enabled lives in settings ('events.enabled.<TYPE>' = '1'), where the
 * triggers of schema/0011_events.sql read it; those triggers write enabled events into
 * event_outbox in the transaction of the change, and fleetyard-server publishes and deletes
 * them (fy_events_take). db belongs to the calling thread.
 */
#ifndef FY_REGISTRY_EVENTS_H
#define FY_REGISTRY_EVENTS_H

#include <stddef.h>

#include <jansson.h>

#include "core/db.h"
#include "core/err.h"

#define FY_EVENTS_TAKE_MAX 256 /* outbox rows published per pass */

/* AWS's event types (the EventType enum), in its order. */
extern const char *const fy_event_types[];
extern const size_t fy_event_type_count;

/* {"THING":{"Enabled":false},...} with every type into a new *out; *created and *modified are
 * epoch seconds (0 before the first update). */
FY_NODISCARD fy_err fy_events_config_get(
    struct fy_db *db, json_t **out, double *created, double *modified, struct fy_errmsg *em);

/* Applies {"<TYPE>":{"Enabled":bool},...} (borrowed) in one transaction. An unknown type, a
 * non-object value or a non-boolean Enabled -> FY_ERR_INVALID_REQUEST, nothing changed. */
FY_NODISCARD fy_err fy_events_config_update(struct fy_db *db,
                                            const json_t *cfg,
                                            struct fy_errmsg *em);

/* One outbox row as fy_events_take hands it over (borrowed for the callback). */
struct fy_event_msg {
    const char *topic;
    const char *payload;
    const char *thing_name; /* the thing the event is about, or NULL */
    const char *enrich;     /* what to add when publishing: NULL (thingArn when thing_name is
                               set), "account", "thing" or "membership" (schema/0012) */
};

/* The current attributes of thing as a JSON object (new reference; {} when it has none or is
 * gone; NULL on OOM). */
json_t *fy_events_thing_attributes(struct fy_db *db, const char *thing);

/* Calls fn for the oldest outbox rows (at most FY_EVENTS_TAKE_MAX) and deletes them, in one
 * transaction; *taken gets how many. A callback error stops the pass and keeps the rest. */
FY_NODISCARD fy_err fy_events_take(struct fy_db *db,
                                   fy_err (*fn)(void *ctx, const struct fy_event_msg *m),
                                   void *ctx,
                                   size_t *taken,
                                   struct fy_errmsg *em);

#endif
