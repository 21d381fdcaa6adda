/* Policy documents: parsing and validation into the compiled form. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/json.h"
#include "policy/policy_int.h"

#define POL_MAX_DEPTH 8

static fy_err malformed(struct fy_errmsg *em, const char *what)
{
    return fy_fail(em, FY_ERR_MALFORMED_POLICY, "%s", what);
}

/* Characters of the document that are not whitespace (AWS's size rule). */
static size_t significant_chars(const char *doc, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)doc[i];
        n += c != ' ' && c != '\t' && c != '\n' && c != '\r' && (c & 0xC0) != 0x80;
    }
    return n;
}

/* What a list element accepts: its name for messages, case folding, whether numbers and
 * booleans count (condition values: IAM reads `"Bool": {"k": true}`), and a validity check. */
struct list_kind {
    const char *field;
    bool lower;
    bool scalars;
    bool (*ok)(const char *);
};

/* Text of one list entry, NULL when the entry's JSON type is not accepted. */
static const char *entry_text(const json_t *v, const struct list_kind *k, char *buf, size_t cap)
{
    if (json_is_string(v) || !k->scalars) {
        return json_string_value(v);
    }
    if (json_is_boolean(v)) {
        return json_is_true(v) ? "true" : "false";
    }
    if (json_is_integer(v)) {
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, cap, "%.17g", json_real_value(v));
        return buf;
    }
    return NULL;
}

/* A string (or scalar) or a non-empty array of them, each checked by k->ok. */
static fy_err string_list(struct fy_policy *p,
                          const json_t *j,
                          const struct list_kind *k,
                          struct pattern **out,
                          size_t *n,
                          struct fy_errmsg *em)
{
    char num[64];
    size_t count = json_is_array(j) ? json_array_size(j) : 1;
    if (count == 0 || (!json_is_array(j) && !entry_text(j, k, num, sizeof(num)))) {
        return fy_fail(em, FY_ERR_MALFORMED_POLICY,
                       "%s must be a string or a non-empty array of strings", k->field);
    }
    *out = pol_alloc(p, count * sizeof(**out));
    if (!*out) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        const char *s =
            entry_text(json_is_array(j) ? json_array_get(j, i) : j, k, num, sizeof(num));
        if (!s || (k->ok && !k->ok(s))) {
            return fy_fail(em, FY_ERR_MALFORMED_POLICY, "Invalid %s entry: %.100s", k->field,
                           s ? s : "(not a string)");
        }
        fy_err e = pattern_compile(p, s, k->lower, &(*out)[i], em);
        if (e) {
            return e;
        }
    }
    *n = count;
    return FY_ERR_OK;
}

static bool action_ok(const char *s)
{
    const char *colon = strchr(s, ':');
    return strcmp(s, "*") == 0 || (colon && colon != s && colon[1] != '\0');
}

static bool resource_ok(const char *s)
{
    return strcmp(s, "*") == 0 || strncmp(s, "arn:", 4) == 0;
}

static const struct list_kind k_action = {"Action", true, false, action_ok};
static const struct list_kind k_resource = {"Resource", false, false, resource_ok};
static const struct list_kind k_value = {"Condition value", false, true, NULL};

/* One "Operator": {"key": value-or-values, ...} entry of a Condition block. */
static fy_err compile_operator(struct fy_policy *p,
                               struct stmt *st,
                               const char *op,
                               const json_t *j_keys,
                               struct fy_errmsg *em)
{
    struct cond proto;
    const char *key;
    json_t *v;
    memset(&proto, 0, sizeof(proto));
    if (!cond_parse_operator(op, &proto)) {
        return fy_fail(em, FY_ERR_MALFORMED_POLICY, "Unknown condition operator: %.64s", op);
    }
    if (!json_is_object(j_keys) || json_object_size(j_keys) == 0) {
        return fy_fail(em, FY_ERR_MALFORMED_POLICY,
                       "Condition operator %.64s needs a non-empty "
                       "object of keys",
                       op);
    }
    json_object_foreach ((json_t *)j_keys, key, v) {
        struct cond *c = &st->conds[st->nconds];
        *c = proto;
        c->key = pol_alloc(p, strlen(key) + 1);
        if (!c->key) {
            return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
        }
        memcpy((char *)c->key, key, strlen(key) + 1);
        key_canonicalize((char *)c->key);
        fy_err e = string_list(p, v, &k_value, &c->values, &c->nvalues, em);
        if (e) {
            return e;
        }
        st->nconds++;
    }
    return FY_ERR_OK;
}

static fy_err
compile_conditions(struct fy_policy *p, struct stmt *st, const json_t *j, struct fy_errmsg *em)
{
    const char *op;
    json_t *keys;
    size_t total = 0;
    if (!j) {
        return FY_ERR_OK;
    }
    if (!json_is_object(j)) {
        return malformed(em, "Condition must be an object");
    }
    json_object_foreach ((json_t *)j, op, keys) {
        total += json_is_object(keys) ? json_object_size(keys) : 0;
    }
    st->conds = pol_alloc(p, (total ? total : 1) * sizeof(*st->conds));
    if (!st->conds) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    json_object_foreach ((json_t *)j, op, keys) {
        fy_err e = compile_operator(p, st, op, keys, em);
        if (e) {
            return e;
        }
    }
    return FY_ERR_OK;
}

/* Exactly one of the two members must be present. */
static fy_err one_of(const json_t *j,
                     const char *a,
                     const char *b,
                     const json_t **v,
                     bool *is_b,
                     struct fy_errmsg *em)
{
    const json_t *va = json_object_get(j, a), *vb = json_object_get(j, b);
    if (!va == !vb) {
        return fy_fail(em, FY_ERR_MALFORMED_POLICY, "A statement needs exactly one of %s and %s", a,
                       b);
    }
    *v = va ? va : vb;
    *is_b = vb != NULL;
    return FY_ERR_OK;
}

static fy_err check_statement_keys(const json_t *j, struct fy_errmsg *em)
{
    static const char *const allowed[] = {"Sid",      "Effect",      "Action",   "NotAction",
                                          "Resource", "NotResource", "Condition"};
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)j, key, v) {
        bool known = false;
        for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
            known = known || strcmp(key, allowed[i]) == 0;
        }
        if (!known) {
            return fy_fail(em, FY_ERR_MALFORMED_POLICY, "Unsupported statement element: %.64s",
                           key);
        }
    }
    const json_t *sid = json_object_get(j, "Sid");
    return sid && !json_is_string(sid) ? malformed(em, "Sid must be a string") : FY_ERR_OK;
}

static fy_err
compile_statement(struct fy_policy *p, struct stmt *st, const json_t *j, struct fy_errmsg *em)
{
    const json_t *actions = NULL, *resources = NULL;
    const char *effect = json_string_value(json_object_get(j, "Effect"));
    if (!json_is_object(j)) {
        return malformed(em, "Each statement must be an object");
    }
    fy_err e = check_statement_keys(j, em);
    if (!e && (!effect || (strcmp(effect, "Allow") != 0 && strcmp(effect, "Deny") != 0))) {
        e = malformed(em, "Effect must be \"Allow\" or \"Deny\"");
    }
    if (!e) {
        st->deny = strcmp(effect, "Deny") == 0;
        e = one_of(j, "Action", "NotAction", &actions, &st->not_action, em);
    }
    if (!e) {
        e = one_of(j, "Resource", "NotResource", &resources, &st->not_resource, em);
    }
    if (!e) {
        e = string_list(p, actions, &k_action, &st->actions, &st->nactions, em);
    }
    if (!e) {
        e = string_list(p, resources, &k_resource, &st->resources, &st->nresources, em);
    }
    return e ? e : compile_conditions(p, st, json_object_get(j, "Condition"), em);
}

static fy_err compile_document(struct fy_policy *p, const json_t *root, struct fy_errmsg *em)
{
    const char *version = json_string_value(json_object_get(root, "Version"));
    const json_t *stmts = json_object_get(root, "Statement");
    const char *key;
    json_t *v;
    if (!json_is_object(root)) {
        return malformed(em, "The policy document must be a JSON object");
    }
    json_object_foreach ((json_t *)root, key, v) {
        if (strcmp(key, "Version") != 0 && strcmp(key, "Statement") != 0 &&
            strcmp(key, "Id") != 0) {
            return fy_fail(em, FY_ERR_MALFORMED_POLICY, "Unsupported policy element: %.64s", key);
        }
    }
    if (json_object_get(root, "Version") &&
        (!version || (strcmp(version, "2012-10-17") != 0 && strcmp(version, "2008-10-17") != 0))) {
        return malformed(em, "Version must be \"2012-10-17\" or \"2008-10-17\"");
    }
    size_t n = json_is_array(stmts) ? json_array_size(stmts) : 1;
    if (!stmts || (!json_is_object(stmts) && !json_is_array(stmts)) || n == 0) {
        return malformed(em, "Statement must be an object or a non-empty array of objects");
    }
    p->stmts = pol_alloc(p, n * sizeof(*p->stmts));
    if (!p->stmts) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    p->nstmts = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *j = json_is_array(stmts) ? json_array_get(stmts, i) : stmts;
        fy_err e = compile_statement(p, &p->stmts[i], j, em);
        if (e) {
            return e;
        }
    }
    return FY_ERR_OK;
}

fy_err fy_policy_compile(const char *doc, size_t len, struct fy_policy **out, struct fy_errmsg *em)
{
    json_t *root = NULL;
    *out = NULL;
    if (len > FY_POLICY_DOC_MAX_BYTES || significant_chars(doc, len) > FY_POLICY_DOC_MAX_CHARS) {
        return fy_fail(em, FY_ERR_MALFORMED_POLICY,
                       "Policy document is too long: at most %d characters excluding whitespace",
                       FY_POLICY_DOC_MAX_CHARS);
    }
    if (fy_json_parse(doc, len, POL_MAX_DEPTH, &root, em) != FY_ERR_OK) {
        char detail[FY_ERRMSG_MAX];
        memcpy(detail, em ? em->msg : "", em ? sizeof(detail) : 1);
        return fy_fail(em, FY_ERR_MALFORMED_POLICY, "Policy document is not valid JSON: %.400s",
                       detail);
    }
    struct fy_policy *p = fy_calloc(1, sizeof(*p));
    fy_err e = p ? compile_document(p, root, em) : fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    json_decref(root);
    if (e) {
        fy_policy_free(p);
        return e;
    }
    *out = p;
    return FY_ERR_OK;
}

void fy_policy_free(struct fy_policy *p)
{
    if (!p) {
        return;
    }
    for (size_t i = 0; i < p->nallocs; i++) {
        fy_free(p->allocs[i]);
    }
    fy_free(p->allocs);
    fy_free(p);
}
