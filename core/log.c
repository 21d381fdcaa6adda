#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

enum fy_log_level fy_log_threshold = FY_LOG_INFO;
static fy_log_sink_fn log_sink;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void fy_log_set_sink(fy_log_sink_fn sink)
{
    log_sink = sink;
}

int fy_log_parse_level(const char *s, enum fy_log_level *out)
{
    for (int i = 0; i <= FY_LOG_DEBUG; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum fy_log_level)i;
            return 0;
        }
    }
    return -1;
}

/* Escapes control characters so user text cannot forge log lines. */
static void escape_controls(char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            *s = '?';
        }
    }
}

void fy_log_write(enum fy_log_level level, const char *subsys, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    escape_controls(msg);
    if (log_sink) {
        log_sink(level, msg);
        return;
    }
    struct timespec ts;
    struct tm tm;
    char when[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    pthread_mutex_lock(&log_lock);
    fprintf(stderr, "%s.%03ldZ %-5s %s: %s\n", when, ts.tv_nsec / 1000000, level_names[level],
            subsys, msg);
    pthread_mutex_unlock(&log_lock);
}
