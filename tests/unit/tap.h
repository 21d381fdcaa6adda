/* A tiny TAP producer for unit tests: ok(cond, fmt, ...) and done(). Header-only; each test
 * program includes it once. */
#ifndef FY_TESTS_TAP_H
#define FY_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_count;
static int tap_failed;

__attribute__((format(printf, 2, 3))) static int ok(int cond, const char *fmt, ...)
{
    va_list ap;
    tap_count++;
    if (!cond) {
        tap_failed++;
    }
    printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    return cond;
}

/* Prints the plan and a summary; returns the process exit status. */
static int done(void)
{
    printf("1..%d\n# %d passed, %d failed\n", tap_count, tap_count - tap_failed, tap_failed);
    return tap_failed ? 1 : 0;
}

#endif
