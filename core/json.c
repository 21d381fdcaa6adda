#include "core/json.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

/* Allocation failures inside jansson on this thread: json_dumps ignores some of them (an
 * object key whose append failed is written short, jansson 2.14 dump.c), so fy_json_dump
 * checks this count instead of trusting the result. */
static _Thread_local unsigned long json_alloc_failures;

static void *json_alloc(size_t n)
{
    void *p = fy_malloc(n);
    json_alloc_failures += p == NULL;
    return p;
}

void fy_json_init(void)
{
    json_set_alloc_funcs(json_alloc, fy_free);
    json_object_seed(0);
}

size_t fy_json_depth(const json_t *j)
{
    size_t best = 0;
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach ((json_t *)j, k, v) {
            size_t d = fy_json_depth(v);
            best = d > best ? d : best;
        }
        return best + 1;
    }
    if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach (j, i, v) {
            size_t d = fy_json_depth(v);
            best = d > best ? d : best;
        }
        return best + 1;
    }
    return 0;
}

/* Cheap pre-scan so a deeply nested body cannot exhaust the stack inside jansson. */
static size_t raw_depth(const char *buf, size_t len)
{
    size_t depth = 0, best = 0;
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_str = 0;
            }
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            depth++;
            best = depth > best ? depth : best;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return best;
}

json_t *fy_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *err)
{
    json_error_t local;
    json_error_t *e = err ? err : &local;
    unsigned long failures = json_alloc_failures;
    json_t *j = json_loadb(buf, len, flags, e);
    if (json_alloc_failures != failures) {
        json_decref(j); /* possibly missing bytes inside: see fy_json_loadb in json.h */
        j = NULL;
        snprintf(e->text, sizeof(e->text), "out of memory");
        e->text[JSON_ERROR_TEXT_LENGTH - 1] = (char)json_error_out_of_memory; /* json_error_code */
    }
    return j;
}

json_t *fy_json_loads(const char *s, size_t flags)
{
    return fy_json_loadb(s, strlen(s), flags, NULL);
}

fy_err
fy_json_parse(const char *buf, size_t len, size_t max_depth, json_t **out, struct fy_errmsg *em)
{
    json_error_t jerr;
    if (raw_depth(buf, len) > max_depth) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST,
                       "JSON contains too many levels of nesting; maximum is %zu", max_depth);
    }
    json_t *j = fy_json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j && json_error_code(&jerr) == json_error_out_of_memory) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    if (!j) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "Invalid JSON: %.200s (line %d, column %d)",
                       jerr.text, jerr.line, jerr.column);
    }
    *out = j;
    return FY_ERR_OK;
}

json_t *fy_json_with_member(json_t *j, const char *key, json_t *v)
{
    return json_object_set_new(j, key, v) == 0 ? j : (json_decref(j), NULL);
}

char *fy_json_dump(const json_t *j)
{
    return fy_json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* Most documents fit: json_dumpb into this thread's buffer and one copy of the result cost less
 * than json_dumps, which grows its buffer from 16 bytes by reallocation and then copies it. */
static _Thread_local char dump_buf[FY_JSON_DUMP_BUF];

char *fy_json_dumps(const json_t *j, size_t flags)
{
    unsigned long failures = json_alloc_failures;
    size_t n = json_dumpb(j, dump_buf, sizeof(dump_buf), flags);
    char *out = NULL;
    if (n == 0) {
        return NULL;
    }
    if (n < sizeof(dump_buf)) {
        out = fy_malloc(n + 1);
        if (out) {
            memcpy(out, dump_buf, n);
            out[n] = '\0';
        }
    } else {
        out = json_dumps(j, flags);
    }
    if (out && json_alloc_failures != failures) {
        fy_free(out); /* possibly truncated inside: see json_alloc_failures */
        out = NULL;
    }
    return out;
}

fy_err
fy_json_opt_string(const json_t *obj, const char *key, const char **out, struct fy_errmsg *em)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        return FY_ERR_OK;
    }
    if (!json_is_string(v)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "%.64s must be a string", key);
    }
    *out = json_string_value(v);
    return FY_ERR_OK;
}

/* True for a byte that goes into a JSON string as it is. */
static bool json_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

char *fy_json_write_string(char *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    *w++ = '"';
    while (*p) {
        if (json_plain(*p)) {
            *w++ = (char)*p++;
        } else if (*p >= 0x80) {
            size_t n = fy_utf8_seq(p);
            if (n == 0) {
                *w++ = '?';
                p++;
            }
            for (; n > 0; n--) {
                *w++ = (char)*p++;
            }
        } else if (*p == '"' || *p == '\\') {
            *w++ = '\\';
            *w++ = (char)*p++;
        } else {
            memcpy(w, "\\u00", 4);
            w[4] = hex[*p >> 4];
            w[5] = hex[*p & 15];
            w += 6;
            p++;
        }
    }
    *w++ = '"';
    return w;
}

char *fy_json_write_member(char *w, const char *key, const char *value)
{
    w = fy_json_write_string(w, key);
    *w++ = ':';
    return fy_json_write_string(w, value);
}
