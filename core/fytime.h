/* fleetyard core: time. Thread-safe. */
#ifndef FY_CORE_TIME_H
#define FY_CORE_TIME_H

#include <stdint.h>

/* Wall-clock epoch seconds with millisecond fraction (AWS timestamps are JSON numbers). */
double fy_now(void);

/* Wall-clock epoch milliseconds. */
int64_t fy_now_ms(void);

/* Monotonic nanoseconds, for durations. */
uint64_t fy_mono_ns(void);

#endif
