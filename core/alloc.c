#include "core/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_ulong fail_countdown;

void fy_alloc_fail_at(unsigned long n)
{
    atomic_store(&fail_countdown, n);
}

bool fy_alloc_fail_pending(void)
{
    return atomic_load(&fail_countdown) != 0;
}

static int inject_failure(void)
{
    unsigned long cur = atomic_load(&fail_countdown);
    while (cur != 0) {
        if (atomic_compare_exchange_weak(&fail_countdown, &cur, cur - 1)) {
            return cur == 1;
        }
    }
    return 0;
}

void *fy_malloc(size_t n)
{
    if (inject_failure()) {
        return NULL;
    }
    return malloc(n ? n : 1);
}

void *fy_calloc(size_t count, size_t size)
{
    if (inject_failure()) {
        return NULL;
    }
    return calloc(count ? count : 1, size ? size : 1);
}

void *fy_realloc(void *p, size_t n)
{
    if (inject_failure()) {
        return NULL;
    }
    return realloc(p, n ? n : 1);
}

char *fy_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = fy_malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

char *fy_strdup(const char *s)
{
    return fy_strndup(s, strlen(s));
}

void fy_free(void *p)
{
    free(p);
}
