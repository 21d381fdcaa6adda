/* What the project's json_pack calls rely on: when a pack fails, jansson (>= 2.11) has released
 * every value handed to it with "o" or "o*", whatever failed: an allocation (each one in turn),
 * a NULL or invalid UTF-8 string argument, a NULL "o" argument, before or after the stolen value,
 * nested or not. So `json_pack("{s:o}", k, v)` needs no cleanup of v on any path, and a caller
 * that released v after a failed pack would free it twice. Counted here with our own allocation
 * functions, so a release build fails too (not only an ASan one). */
#include <stdbool.h>
#include <stddef.h>

#include "core/alloc.h"
#include "core/json.h"
#include "tests/unit/tap.h"

static long live;

static void *count_malloc(size_t n)
{
    size_t *p = fy_malloc(n + sizeof(max_align_t));
    if (!p) {
        return NULL;
    }
    live++;
    return (char *)p + sizeof(max_align_t);
}

static void count_free(void *p)
{
    if (p) {
        live--;
        fy_free((char *)p - sizeof(max_align_t));
    }
}

static const char BAD_UTF8[] = "\xff\xfe";

/* Each case builds its own stolen value v (an object with one member) and packs it. */
static json_t *value(void)
{
    json_t *v = json_object();
    json_object_set_new(v, "k", json_string("v"));
    return v;
}

static json_t *pack_case(int c)
{
    switch (c) {
    case 0: /* the usual shape: strings, the value, an integer */
        return json_pack("{s:s, s:o, s:I}", "n", "name", "v", value(), "i", (json_int_t)5);
    case 1: /* invalid UTF-8 after the value */
        return json_pack("{s:o, s:s}", "v", value(), "s", BAD_UTF8);
    case 2: /* NULL string after the value */
        return json_pack("{s:o, s:s}", "v", value(), "s", (const char *)NULL);
    case 3: /* invalid UTF-8 before the value */
        return json_pack("{s:s, s:o}", "s", BAD_UTF8, "v", value());
    case 4: /* NULL "o" before another "o" */
        return json_pack("{s:o, s:o}", "n", (json_t *)NULL, "v", value());
    case 5: /* nested, invalid key inside */
        return json_pack("{s:{s:s, s:o}}", "x", BAD_UTF8, "w", "v", value());
    case 6: /* "o*": an absent one, then a present one */
        return json_pack("{s:s, s:o*, s:o*}", "s", "x", "n", (json_t *)NULL, "v", value());
    case 7: /* invalid key after the value */
        return json_pack("{s:o, s:s}", "v", value(), BAD_UTF8, "x");
    default: /* array */
        return json_pack("[s, o, s]", "x", value(), BAD_UTF8);
    }
}

enum { CASES = 9, FAIL_POINTS = 40 }; /* every case makes fewer than 20 allocations */

/* jansson 2.14's lexer ignores a failed growth of its token buffer, so json_loadb can return
 * a document with a key or string a byte short. fy_json_parse and fy_json_loadb (which count
 * jansson's allocation failures) answer NOMEM instead: under each injected failure the result is
 * either NOMEM / NULL or exactly the document. */
static void test_parse_under_failures(void)
{
    fy_json_init();
    static const char doc[] = "{\"thingIndexingConfiguration\":{\"thingIndexingMode\":"
                              "\"REGISTRY_AND_SHADOW\",\"a_rather_long_key_to_grow_the_lexer_"
                              "buffer_several_times_over\":[\"value one\",\"value two\"]}}";
    json_t *ref = json_loads(doc, 0, NULL);
    int nomem = 0, exact = 0, wrong = 0, null = 0, runs = 0;
    for (unsigned long n = 1; n < 1000; n++, runs++) {
        struct fy_errmsg em;
        json_t *j = NULL, *k = NULL;
        fy_alloc_fail_at(n);
        fy_err e = fy_json_parse(doc, sizeof(doc) - 1, 8, &j, &em);
        bool reached = !fy_alloc_fail_pending();
        fy_alloc_fail_at(n);
        k = fy_json_loads(doc, 0);
        fy_alloc_fail_at(0);
        nomem += e == FY_ERR_NOMEM;
        exact += (e == FY_ERR_OK && json_equal(j, ref)) + (k && json_equal(k, ref));
        wrong += (e == FY_ERR_OK && !json_equal(j, ref)) + (k && !json_equal(k, ref)) +
                 (e != FY_ERR_OK && e != FY_ERR_NOMEM);
        null += k == NULL;
        json_decref(j);
        json_decref(k);
        if (!reached) {
            break;
        }
    }
    ok(ref && wrong == 0 && nomem > 0 && null > 0 && exact > 0,
       "parsing under %d injected failures: %d NOMEM, %d exact, %d wrong", runs, nomem, exact,
       wrong);
    json_decref(ref);
}

int main(void)
{
    json_set_alloc_funcs(count_malloc, count_free);
    /* cases 1-5, 7 and 8 fail on their arguments; 0 and 6 succeed unless an allocation fails */
    static const int must_fail[CASES] = {0, 1, 1, 1, 1, 1, 0, 1, 1};
    for (int c = 0; c < CASES; c++) {
        int failed = 0, leaking = 0, wrong = 0;
        for (unsigned long n = 1; n <= FAIL_POINTS; n++) {
            live = 0;
            fy_alloc_fail_at(n);
            json_t *j = pack_case(c);
            fy_alloc_fail_at(0);
            failed += j == NULL;
            wrong += j != NULL && must_fail[c];
            json_decref(j);
            leaking += live != 0;
        }
        live = 0;
        json_t *j = pack_case(c);
        int ends_right = (j == NULL) == must_fail[c];
        json_decref(j);
        ok(ends_right && !wrong && leaking == 0 && live == 0 && failed >= 2,
           "case %d: %d of %d packs with an injected allocation failure failed, none left a "
           "value behind (%d did)",
           c, failed, FAIL_POINTS, leaking);
    }
    test_parse_under_failures();
    return done();
}
