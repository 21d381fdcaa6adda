/* api/affinity.c: which CPU each pool thread gets, when the pool is pinned, and the pin itself.
 * The process's own CPU set is narrowed with sched_setaffinity to make the cases. */
#include <pthread.h>
#include <sched.h>

#include "api/affinity.h"
#include "tap.h"

static cpu_set_t all; /* the CPUs the test may use */

static int nth_cpu(const cpu_set_t *set, int n)
{
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (CPU_ISSET(cpu, set) && n-- == 0) {
            return cpu;
        }
    }
    return -1;
}

/* Narrows the process to its first n usable CPUs (false: fewer are there). */
static bool use_cpus(int n)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < n; i++) {
        int cpu = nth_cpu(&all, i);
        if (cpu < 0) {
            return false;
        }
        CPU_SET(cpu, &set);
    }
    return sched_setaffinity(0, sizeof(set), &set) == 0;
}

static void test_turns(void)
{
    struct api_affinity a = {.ncpus = 3};
    CPU_ZERO(&a.cpus);
    CPU_SET(1, &a.cpus);
    CPU_SET(3, &a.cpus);
    CPU_SET(5, &a.cpus);
    ok(api_affinity_cpu(&a, 0) == 1 && api_affinity_cpu(&a, 1) == 3 && api_affinity_cpu(&a, 2) == 5,
       "turns take the set's CPUs in order");
    ok(api_affinity_cpu(&a, 3) == 1 && api_affinity_cpu(&a, 7) == 3, "and wrap round");
    a.ncpus = 0;
    ok(api_affinity_cpu(&a, 0) == -1, "no CPU without a set");
}

static void test_modes(void)
{
    struct api_affinity a;
    if (!use_cpus(2)) {
        ok(1, "# SKIP fewer than 2 CPUs: the mode cases need two");
        return;
    }
    api_affinity_init(&a, API_AFFINITY_AUTO, 4);
    ok(a.ncpus == 2 && a.on, "auto, 4 threads on 2 CPUs: pinned");
    api_affinity_init(&a, API_AFFINITY_AUTO, 2);
    ok(a.on, "auto, 2 threads on 2 CPUs: pinned");
    api_affinity_init(&a, API_AFFINITY_AUTO, 3);
    ok(!a.on, "auto, 3 threads on 2 CPUs (uneven): not pinned");
    api_affinity_init(&a, API_AFFINITY_AUTO, 1);
    ok(!a.on, "auto, 1 thread on 2 CPUs: not pinned");
    api_affinity_init(&a, API_AFFINITY_ON, 3);
    ok(a.on, "true, 3 threads on 2 CPUs: pinned");
    api_affinity_init(&a, API_AFFINITY_OFF, 4);
    ok(!a.on, "false: never pinned");
    ok(use_cpus(1), "narrowed to one CPU");
    api_affinity_init(&a, API_AFFINITY_ON, 4);
    ok(a.ncpus == 1 && !a.on, "one usable CPU: nothing to pin, even with true");
}

static void *pin_twice(void *arg)
{
    struct api_affinity *a = arg;
    static cpu_set_t got[2];
    api_affinity_pin_self(a);
    pthread_getaffinity_np(pthread_self(), sizeof(got[0]), &got[0]);
    api_affinity_pin_self(a);
    pthread_getaffinity_np(pthread_self(), sizeof(got[1]), &got[1]);
    return got;
}

static void test_pin(void)
{
    if (!use_cpus(2)) {
        ok(1, "# SKIP fewer than 2 CPUs: nothing to pin to");
        return;
    }
    struct api_affinity a;
    api_affinity_init(&a, API_AFFINITY_ON, 2);
    int seen[2] = {-1, -1};
    for (int t = 0; t < 2; t++) {
        pthread_t th;
        void *res = NULL;
        ok(pthread_create(&th, NULL, pin_twice, &a) == 0 && pthread_join(th, &res) == 0,
           "thread %d ran", t);
        cpu_set_t *got = res;
        seen[t] = nth_cpu(&got[0], 0);
        ok(CPU_COUNT(&got[0]) == 1 && seen[t] == nth_cpu(&all, t),
           "thread %d pinned to the set's CPU of its turn (%d)", t, seen[t]);
        ok(CPU_EQUAL(&got[0], &got[1]), "thread %d: a second call changes nothing", t);
    }
    ok(seen[0] != seen[1], "two threads, two CPUs");
    api_affinity_init(&a, API_AFFINITY_OFF, 2);
    pthread_t th;
    void *res = NULL;
    ok(pthread_create(&th, NULL, pin_twice, &a) == 0 && pthread_join(th, &res) == 0,
       "unpinned thread ran");
    ok(CPU_COUNT(&((cpu_set_t *)res)[0]) == 2, "off: the thread keeps the process's CPUs");
}

int main(void)
{
    sched_getaffinity(0, sizeof(all), &all);
    test_turns();
    test_modes();
    test_pin();
    sched_setaffinity(0, sizeof(all), &all);
    return done();
}
