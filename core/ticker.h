/* fleetyard core: a thread that calls a function at a fixed interval until stopped.
 *
 * fy_ticker_start runs fn(ctx) every interval_ms on a new thread (the first call at once when
 * first_now, else one interval after the start); fy_ticker_stop wakes it, waits for the call in
 * progress to return and joins it. fn runs on the ticker's thread only. */
#ifndef FY_CORE_TICKER_H
#define FY_CORE_TICKER_H

#include <stdbool.h>

#include "core/err.h"

struct fy_ticker;

FY_NODISCARD fy_err fy_ticker_start(int interval_ms,
                                    bool first_now,
                                    void (*fn)(void *ctx),
                                    void *ctx,
                                    struct fy_ticker **out,
                                    struct fy_errmsg *em);

/* Runs fn as soon as the ticker's thread is free instead of at the end of the interval (kicks
 * while a call runs, or before the next one starts, make one call). Callable from any thread. */
void fy_ticker_kick(struct fy_ticker *t);

/* Stops and frees t (NULL is a no-op). */
void fy_ticker_stop(struct fy_ticker *t);

#endif
