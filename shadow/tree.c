/* Shadow document trees: merge, metadata, delta (AWS_IOT_BEHAVIOUR.md §4). Pure jansson. */
#include "shadow/shadow_int.h"

static json_t *leaf_meta(int64_t ts)
{
    return json_pack("{s:I}", "timestamp", (json_int_t)ts);
}

/* Makes dst[key] (and meta[key]) objects so an object value can merge into them. */
static fy_err ensure_objects(json_t *dst, json_t *meta, const char *key, json_t **d, json_t **m)
{
    *d = json_object_get(dst, key);
    if (!json_is_object(*d)) {
        *d = json_object();
        if (!*d || json_object_set_new(dst, key, *d) != 0) {
            return FY_ERR_NOMEM;
        }
        json_object_del(meta, key);
    }
    *m = json_object_get(meta, key);
    if (!json_is_object(*m) || json_is_integer(json_object_get(*m, "timestamp"))) {
        *m = json_object();
        if (!*m || json_object_set_new(meta, key, *m) != 0) {
            return FY_ERR_NOMEM;
        }
    }
    return FY_ERR_OK;
}

fy_err shd_merge(json_t *dst, json_t *meta, json_t *src, int64_t ts)
{
    const char *key;
    json_t *v;
    json_object_foreach (src, key, v) {
        if (json_is_null(v)) {
            json_object_del(dst, key);
            json_object_del(meta, key);
            continue;
        }
        if (json_is_object(v)) {
            json_t *d, *m;
            fy_err e = ensure_objects(dst, meta, key, &d, &m);
            if (!e) {
                e = shd_merge(d, m, v, ts);
            }
            if (e) {
                return e;
            }
            continue;
        }
        if (json_object_set_new(dst, key, json_deep_copy(v)) != 0 ||
            json_object_set_new(meta, key, leaf_meta(ts)) != 0) {
            return FY_ERR_NOMEM;
        }
    }
    return FY_ERR_OK;
}

json_t *shd_meta_of(json_t *v, int64_t ts)
{
    if (!json_is_object(v)) {
        return leaf_meta(ts);
    }
    json_t *out = json_object();
    const char *key;
    json_t *c;
    json_object_foreach (v, key, c) {
        if (!out || json_object_set_new(out, key, shd_meta_of(c, ts)) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* Adds the delta entry for one desired key, if any. Returns -1 on OOM. */
static int delta_key(json_t *out, const char *key, json_t *d, json_t *r)
{
    if (json_is_object(d) && json_is_object(r)) {
        json_t *sub = shd_delta(d, r);
        if (!sub) {
            return -1;
        }
        if (json_object_size(sub) == 0) {
            json_decref(sub);
            return 0;
        }
        return json_object_set_new(out, key, sub);
    }
    if (r && json_equal(d, r)) {
        return 0;
    }
    return json_object_set_new(out, key, json_deep_copy(d));
}

json_t *shd_delta(json_t *desired, json_t *reported)
{
    json_t *out = json_object();
    const char *key;
    json_t *d;
    if (!out || !json_is_object(desired)) {
        return out;
    }
    json_object_foreach (desired, key, d) {
        json_t *r = json_is_object(reported) ? json_object_get(reported, key) : NULL;
        if (delta_key(out, key, d, r) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

json_t *shd_delta_meta(json_t *delta, json_t *meta)
{
    json_t *out = json_object();
    const char *key;
    json_t *v;
    if (!out) {
        return NULL;
    }
    json_object_foreach (delta, key, v) {
        json_t *m = json_is_object(meta) ? json_object_get(meta, key) : NULL;
        json_t *c;
        if (json_is_object(v)) {
            c = shd_delta_meta(v, m);
        } else {
            c = m ? json_deep_copy(m) : json_object();
        }
        if (json_object_set_new(out, key, c) != 0) { /* takes c, even on failure */
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

bool shd_has_null_in_array(const json_t *v, bool in_array)
{
    size_t i;
    const char *key;
    json_t *c;
    if (json_is_null(v)) {
        return in_array;
    }
    if (json_is_array(v)) {
        json_array_foreach (v, i, c) {
            if (shd_has_null_in_array(c, true)) {
                return true;
            }
        }
        return false;
    }
    if (json_is_object(v)) {
        json_object_foreach ((json_t *)v, key, c) {
            if (shd_has_null_in_array(c, false)) {
                return true;
            }
        }
    }
    return false;
}

size_t shd_depth(const json_t *v)
{
    size_t max = 0, i, d;
    const char *key;
    json_t *c;
    if (json_is_array(v)) {
        json_array_foreach (v, i, c) {
            d = shd_depth(c);
            max = d > max ? d : max;
        }
        return max + 1;
    }
    if (json_is_object(v)) {
        json_object_foreach ((json_t *)v, key, c) {
            d = shd_depth(c);
            max = d > max ? d : max;
        }
        return max + 1;
    }
    return 0;
}
