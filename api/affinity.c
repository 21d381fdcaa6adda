#include "api/affinity.h"

#include <pthread.h>

#include "core/log.h"

void api_affinity_init(struct api_affinity *a, enum api_affinity_mode mode, int threads)
{
    CPU_ZERO(&a->cpus);
    atomic_init(&a->next, 0u);
    a->ncpus = sched_getaffinity(0, sizeof(a->cpus), &a->cpus) == 0 ? CPU_COUNT(&a->cpus) : 0;
    bool even = a->ncpus > 0 && threads >= a->ncpus && threads % a->ncpus == 0;
    a->on = a->ncpus > 1 && (mode == API_AFFINITY_ON || (mode == API_AFFINITY_AUTO && even));
}

int api_affinity_cpu(const struct api_affinity *a, unsigned k)
{
    if (a->ncpus <= 0) {
        return -1;
    }
    int want = (int)(k % (unsigned)a->ncpus);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, &a->cpus) && want-- == 0) {
            return cpu;
        }
    }
    return -1;
}

void api_affinity_pin_self(struct api_affinity *a)
{
    static _Thread_local bool pinned;
    if (pinned || !a->on) {
        return;
    }
    pinned = true;
    int cpu = api_affinity_cpu(a, atomic_fetch_add(&a->next, 1u));
    if (cpu < 0) {
        return;
    }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    int rc = pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
    if (rc != 0) {
        fy_log(FY_LOG_DEBUG, "http", "cannot pin a worker thread to CPU %d (error %d)", cpu, rc);
    }
}
