/* Pinning the HTTP pool's threads to CPUs, round robin (lwan pins its threads the same way).
 *
 * Left to itself, the kernel wakes a thread on or near the CPU of the thread that woke it, and
 * a CPU that falls idle does not always take a queued thread from the other. Requests that wait
 * for a group commit or a client are woken every few tens of microseconds, and a woken request
 * often sat in one CPU's queue while the other CPU idled: measured with `perf sched` during a
 * CreateThing burst over four connections on two CPUs, about 60% of the idle time passed with a
 * request waiting so. Pinned, each CPU serves its share of the pool's threads.
 *
 * Modes: API_AFFINITY_AUTO pins when the thread count is a multiple of the CPUs the process may
 * run on (so each CPU gets as many threads as the others), API_AFFINITY_ON always pins,
 * API_AFFINITY_OFF never does. One CPU usable: nothing to pin.
 */
#ifndef FY_API_AFFINITY_H
#define FY_API_AFFINITY_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

enum api_affinity_mode { API_AFFINITY_AUTO, API_AFFINITY_ON, API_AFFINITY_OFF };

struct api_affinity {
    cpu_set_t cpus;   /* the CPUs the process may run on, when it started */
    int ncpus;        /* CPU_COUNT(&cpus) */
    bool on;          /* pin the pool's threads */
    atomic_uint next; /* the next thread's turn: its CPU is the (next % ncpus)-th of cpus */
};

/* Decides, for a pool of threads threads. Reads the process's CPU set (none readable: off). */
void api_affinity_init(struct api_affinity *a, enum api_affinity_mode mode, int threads);

/* Pins the calling pool thread to its CPU the first time it is called on that thread; later
 * calls return at once. A refused pin leaves the thread where it was. */
void api_affinity_pin_self(struct api_affinity *a);

/* The CPU of turn k: the (k % ncpus)-th CPU of a->cpus (-1 when there is none). */
int api_affinity_cpu(const struct api_affinity *a, unsigned k);

#endif
