/* fleetyard core: JSON helpers over jansson.
 *
 * fy_json_init() must run once before any thread starts: it routes jansson's allocations through
 * fy_malloc/fy_free (so strings from fy_json_dump() are released with fy_free) and seeds its
 * hash function. A json_t never crosses threads.
 */
#ifndef FY_CORE_JSON_H
#define FY_CORE_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

#define FY_JSON_MAX_DEPTH 32

void fy_json_init(void);

/* Strictly parses len bytes (duplicate keys rejected, depth capped at max_depth) into a new
 * reference in *out. Malformed input -> FY_ERR_INVALID_REQUEST with jansson's detail. */
FY_NODISCARD fy_err
fy_json_parse(const char *buf, size_t len, size_t max_depth, json_t **out, struct fy_errmsg *em);

/* json_loadb(buf, len, flags, err), but NULL when jansson failed an allocation while parsing
 * (json_error_code(err) is then json_error_out_of_memory): its lexer ignores a failed growth
 * of its token buffer (jansson 2.14 load.c, lex_save), so the document it returns may be
 * missing bytes, e.g. a key one character short. err may be NULL. Use these, never json_load*
 * directly. */
json_t *fy_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *err);
/* The same for a NUL-terminated string, without the error details. */
json_t *fy_json_loads(const char *s, size_t flags);

/* j with member key set to v (both taken), or NULL (j released) when that fails, out of memory:
 * the caller answers that instead of a reply missing the member. */
json_t *fy_json_with_member(json_t *j, const char *key, json_t *v);

/* Compact serialization; caller frees with fy_free. NULL on OOM. */
char *fy_json_dump(const json_t *j);

/* json_dumps(j, flags), but NULL when jansson failed an allocation on the way (it does not
 * always say so itself). Free with fy_free. */
char *fy_json_dumps(const json_t *j, size_t flags);
/* Serializations shorter than this are made in a per-thread buffer (fy_json_dumps). */
#define FY_JSON_DUMP_BUF 16384

/* Writes s as a JSON string literal at w (quoted; '"', '\\' and control characters escaped;
 * bytes that are not well-formed UTF-8 become '?') and returns the end. w must have room for
 * FY_JSON_STRING_MAX(strlen(s)) bytes. For hot paths that write one flat object per event
 * without building a json_t (logs/iotlog.c). */
#define FY_JSON_STRING_MAX(n) (6 * (n) + 2)
char *fy_json_write_string(char *w, const char *s);

/* Writes the member "key":"value" (both as fy_json_write_string) at w and returns the end. w
 * must have room for FY_JSON_MEMBER_MAX(strlen(key), strlen(value)) bytes. */
#define FY_JSON_MEMBER_MAX(klen, vlen) (FY_JSON_STRING_MAX(klen) + 1 + FY_JSON_STRING_MAX(vlen))
char *fy_json_write_member(char *w, const char *key, const char *value);

/* Nesting depth of a value (scalars are 0, {} is 1). */
size_t fy_json_depth(const json_t *j);

/* Borrowed string member or NULL when absent/null; FY_ERR_INVALID_REQUEST if present and not a
 * string. */
FY_NODISCARD fy_err fy_json_opt_string(const json_t *obj,
                                       const char *key,
                                       const char **out,
                                       struct fy_errmsg *em);

#endif
