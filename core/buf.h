/* fleetyard core: a capped growable byte buffer (curl dynbuf). Not thread-safe per instance. */
#ifndef FY_CORE_BUF_H
#define FY_CORE_BUF_H

#include <stddef.h>

#include "core/err.h"

struct fy_buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max; /* hard cap on len */
};

/* Initializes an empty buffer that may hold at most max bytes. */
void fy_buf_init(struct fy_buf *b, size_t max);

/* Appends n bytes. FY_ERR_PAYLOAD_TOO_LARGE past the cap (buffer unchanged), FY_ERR_NOMEM. */
FY_NODISCARD fy_err fy_buf_append(struct fy_buf *b, const void *p, size_t n);

/* Makes room for n more bytes (plus the NUL) so that the caller may write them at
 * data + len and then advance len itself. Errors as fy_buf_append. */
FY_NODISCARD fy_err fy_buf_reserve(struct fy_buf *b, size_t n);

/* Appends a formatted string (same errors). */
FY_NODISCARD fy_err fy_buf_printf(struct fy_buf *b, const char *fmt, ...) FY_PRINTF(2, 3);

/* Releases the storage; the buffer is empty and reusable. */
void fy_buf_free(struct fy_buf *b);

#endif
