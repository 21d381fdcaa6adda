/* fleetyard core: logging.
 *
 * fy_log(level, "subsys", fmt, ...) checks the level before evaluating its arguments. Lines go
 * to a sink: stderr under a mutex by default; the broker plugin installs mosquitto_log_printf.
 * fy_audit() writes one `who | action | resource` line per mutation at INFO level.
 */
#ifndef FY_CORE_LOG_H
#define FY_CORE_LOG_H

#include "core/err.h"

enum fy_log_level { FY_LOG_ERROR = 0, FY_LOG_WARN, FY_LOG_INFO, FY_LOG_DEBUG };

extern enum fy_log_level fy_log_threshold;

typedef void (*fy_log_sink_fn)(enum fy_log_level level, const char *line);

/* Replaces the sink (NULL restores stderr). Call before threads start. */
void fy_log_set_sink(fy_log_sink_fn sink);

/* Parses "error|warn|info|debug"; returns 0 on success. */
int fy_log_parse_level(const char *s, enum fy_log_level *out);

void fy_log_write(enum fy_log_level level, const char *subsys, const char *fmt, ...)
    FY_PRINTF(3, 4);

#define fy_log(level, subsys, ...)                        \
    do {                                                  \
        if ((level) <= fy_log_threshold) {                \
            fy_log_write((level), (subsys), __VA_ARGS__); \
        }                                                 \
    } while (0)

#define fy_audit(who, action, resource) \
    fy_log(FY_LOG_INFO, "audit", "%.64s | %.64s | %.300s", (who), (action), (resource))

#endif
