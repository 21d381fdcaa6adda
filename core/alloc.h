/* fleetyard core: checked allocation.
 *
 * All project code allocates through these. They return NULL on failure (never abort: an abort
 * in the broker process would drop every MQTT session); callers map NULL to FY_ERR_NOMEM.
 * fy_free(NULL) is a no-op. Debug builds can fail the n-th allocation: set the environment
 * variable FY_ALLOC_FAIL_AT=n (or call fy_alloc_fail_at(n)); 0 disables it.
 * Thread-safe.
 */
#ifndef FY_CORE_ALLOC_H
#define FY_CORE_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

void *fy_malloc(size_t n);
void *fy_calloc(size_t count, size_t size);
void *fy_realloc(void *p, size_t n);
char *fy_strdup(const char *s);
char *fy_strndup(const char *s, size_t n);
void fy_free(void *p);

/* Arms allocation-failure injection: the n-th allocation from now fails (0 = off). */
void fy_alloc_fail_at(unsigned long n);

/* Whether the failure armed by fy_alloc_fail_at is still to come (fewer allocations were made
 * since): a test failing each allocation in turn stops at the first run it did not reach. */
bool fy_alloc_fail_pending(void);

#define FY_FREE(p)  \
    do {            \
        fy_free(p); \
        (p) = NULL; \
    } while (0)

#endif
