/* fleetyard-sim: provisioning and cleanup over the control plane (modes provision, cleanup).
 *
 * provision: for device indexes [--id-offset, --id-offset + --count), thing name = --name with
 * %d = index: CreateThing (--thing-type, --attr templates), CreateKeysAndCertificate (active),
 * AttachThingPrincipal, AttachPolicy (--policy, created first when missing), and
 * AddThingToThingGroup for each --group (created when missing). State goes to --state DIR
 * (sim_state.c); devices already there are skipped and a certificate already written is
 * reused, so a second run creates nothing (CreateThing is idempotent for an identical thing).
 * cleanup: for every device with a certificate in DIR: DetachPolicy, DetachThingPrincipal,
 * UpdateCertificate INACTIVE, DeleteCertificate, DeleteThing, then its files and its line.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/names.h"
#include "tools/sim.h"
#include "tools/sim_api.h"
#include "tools/sim_state.h"

#define PATH_MAX_ 4096

/* Built-in policy: each device may connect as its thing, and use its own shadow, jobs and
 * device/<thing>/... topics. */
static const char default_policy[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":["
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
    "\"Resource\":\"arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}\"},"
    "{\"Effect\":\"Allow\",\"Action\":[\"iot:Publish\",\"iot:Receive\"],\"Resource\":["
    "\"arn:aws:iot:*:*:topic/$aws/things/${iot:Connection.Thing.ThingName}/*\","
    "\"arn:aws:iot:*:*:topic/device/${iot:Connection.Thing.ThingName}/*\"]},"
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\",\"Resource\":["
    "\"arn:aws:iot:*:*:topicfilter/$aws/things/${iot:Connection.Thing.ThingName}/*\","
    "\"arn:aws:iot:*:*:topicfilter/device/${iot:Connection.Thing.ThingName}/*\"]}]}";

struct prov {
    const struct sim_opts *o;
    struct sim_api api;
    struct sim_names done;
    unsigned created, reused, failed;
    uint64_t t0, last_progress;
};

static int call(struct prov *p, const struct sim_http_req *r, const int *ok, json_t **out)
{
    return sim_api_expect(&p->api, r, ok, out);
}

static const int OK200[] = {200, 0}, OK200_409[] = {200, 409, 0};

/* Expands a value template: %d = index, %mN = index mod N, %rN = a pseudo-random 0..N-1 fixed
 * for the index (so re-provisioning gives the same attributes), %% = %. */
static int expand_value(const char *t, unsigned idx, char *out, size_t size)
{
    size_t n = 0;
    for (const char *s = t; *s; s++) {
        char piece[24] = {*s, 0};
        if (s[0] == '%' && (s[1] == 'm' || s[1] == 'r')) {
            uint64_t mod = 0;
            const char *q = s + 2;
            if (fy_parse_u64(&q, &mod, 1000000000) != 0 || mod == 0) {
                return -1;
            }
            uint64_t v = s[1] == 'm' ? idx : (idx * 2654435761u) >> 7;
            snprintf(piece, sizeof(piece), "%llu", (unsigned long long)(v % mod));
            s = q - 1;
        } else if (s[0] == '%' && (s[1] == 'd' || s[1] == '%')) {
            snprintf(piece, sizeof(piece), s[1] == 'd' ? "%u" : "%%", idx);
            s++;
        }
        size_t k = strlen(piece);
        if (n + k >= size) {
            return -1;
        }
        memcpy(out + n, piece, k + 1);
        n += k;
    }
    out[n] = '\0';
    return 0;
}

static json_t *thing_body(const struct sim_opts *o, unsigned idx)
{
    json_t *attrs = json_object(), *body = json_object();
    bool ok = attrs && body;
    for (size_t i = 0; ok && i < o->n_attrs; i++) {
        char key[128], val[1024];
        const char *eq = strchr(o->attrs[i], '=');
        size_t klen = eq ? (size_t)(eq - o->attrs[i]) : 0;
        if (!eq || klen == 0 || klen >= sizeof(key) ||
            expand_value(eq + 1, idx, val, sizeof(val))) {
            fprintf(stderr, "fleetyard-sim: bad --attr %s\n", o->attrs[i]);
            json_decref(attrs);
            json_decref(body);
            return NULL;
        }
        memcpy(key, o->attrs[i], klen);
        key[klen] = '\0';
        ok = json_object_set_new(attrs, key, json_string(val)) == 0;
    }
    if (ok && o->thing_type) {
        ok = json_object_set_new(body, "thingTypeName", json_string(o->thing_type)) == 0;
    }
    if (!ok) {
        json_decref(attrs);
        json_decref(body);
        return NULL;
    }
    json_t *payload = json_pack("{s:o}", "attributes", attrs); /* takes attrs, also on failure */
    if (json_object_set_new(body, "attributePayload", payload) != 0) {
        json_decref(body);
        return NULL;
    }
    return body;
}

/* Calls method path with body j (consumed; may be NULL). */
static int call_json(struct prov *p, const char *method, const char *path, json_t *j, const int *ok)
{
    char *text = j ? fy_json_dump(j) : NULL;
    json_decref(j);
    struct sim_http_req r = {.method = method, .path = path, .body = text};
    int rc = call(p, &r, ok, NULL);
    fy_free(text);
    return rc;
}

static int create_thing(struct prov *p, const char *enc, unsigned idx)
{
    char path[512];
    json_t *body = thing_body(p->o, idx);
    snprintf(path, sizeof(path), "/things/%s", enc);
    return body ? call_json(p, "POST", path, body, OK200) : -1;
}

/* Writes the certificate files; the .arn last (it says the others are complete). key: the
 * locally made key (--csr), else the one in the answer. */
static int
save_cert(struct prov *p, const char *name, json_t *c, const char *key, char *arn, size_t size)
{
    const char *pem = json_string_value(json_object_get(c, "certificatePem"));
    key =
        key ? key : json_string_value(json_object_get(json_object_get(c, "keyPair"), "PrivateKey"));
    const char *a = json_string_value(json_object_get(c, "certificateArn"));
    char crt_path[PATH_MAX_], key_path[PATH_MAX_], arn_path[PATH_MAX_];
    if (!pem || !key || !a || strlen(a) >= size ||
        sim_state_path(p->o->state_dir, name, "crt", crt_path, sizeof(crt_path)) ||
        sim_state_path(p->o->state_dir, name, "key", key_path, sizeof(key_path)) ||
        sim_state_path(p->o->state_dir, name, "arn", arn_path, sizeof(arn_path))) {
        return -1;
    }
    memcpy(arn, a, strlen(a) + 1);
    if (sim_write_file(crt_path, pem, 0644) || sim_write_file(key_path, key, 0600) ||
        sim_write_file(arn_path, a, 0644)) {
        fprintf(stderr, "fleetyard-sim: cannot write %s\n", crt_path);
        return -1;
    }
    return 0;
}

/* The device's certificate ARN: the saved one, else a new certificate. */
static int ensure_cert(struct prov *p, const char *name, char *arn, size_t size)
{
    char arn_path[PATH_MAX_];
    if (sim_state_path(p->o->state_dir, name, "arn", arn_path, sizeof(arn_path))) {
        return -1;
    }
    if (sim_read_line(arn_path, arn, size) == 0 && arn[0]) {
        return 0;
    }
    struct sim_http_req r = {
        .method = "POST", .path = "/keys-and-certificate", .query = "setAsActive=true"};
    char *key = NULL, *csr = NULL, *body = NULL;
    json_t *c = NULL;
    if (p->o->csr) {
        json_t *b = sim_make_csr(name, &key, &csr) == 0
                        ? json_pack("{s:s}", "certificateSigningRequest", csr)
                        : NULL;
        body = b ? fy_json_dump(b) : NULL;
        json_decref(b);
        r.path = "/certificates";
        r.body = body;
    }
    int rc = p->o->csr && !body ? -1 : call(p, &r, OK200, &c);
    if (rc == 0) {
        rc = save_cert(p, name, c, key, arn, size);
    }
    json_decref(c);
    fy_free(key);
    fy_free(csr);
    fy_free(body);
    return rc;
}

static int attach(struct prov *p, const char *name, const char *enc, const char *arn)
{
    char path[1024], pol[512];
    snprintf(path, sizeof(path), "/things/%s/principals", enc);
    struct sim_http_req r = {
        .method = "PUT", .path = path, .hdr_name = "x-amzn-principal", .hdr_value = arn};
    if (call(p, &r, OK200, NULL) || sim_pct_encode(p->o->policy, false, pol, sizeof(pol))) {
        return -1;
    }
    snprintf(path, sizeof(path), "/target-policies/%s", pol);
    if (call_json(p, "PUT", path, json_pack("{s:s}", "target", arn), OK200)) {
        return -1;
    }
    for (size_t i = 0; i < p->o->n_groups; i++) {
        json_t *b = json_pack("{s:s, s:s}", "thingGroupName", p->o->groups[i], "thingName", name);
        if (call_json(p, "PUT", "/thing-groups/addThingToThingGroup", b, OK200)) {
            return -1;
        }
    }
    return 0;
}

/* certs/<thing>.thing, before anything is created: cleanup finds every device it started. */
static int mark_started(struct prov *p, const char *name)
{
    char path[PATH_MAX_];
    if (sim_state_path(p->o->state_dir, name, "thing", path, sizeof(path)) ||
        sim_write_file(path, "", 0644)) {
        fprintf(stderr, "fleetyard-sim: cannot write in %s\n", p->o->state_dir);
        return -1;
    }
    return 0;
}

static int provision_one(struct prov *p, unsigned idx)
{
    char name[SIM_NAME_MAX + 16], enc[3 * SIM_NAME_MAX], arn[1024];
    if (sim_expand(p->o->name_pattern, idx, name, sizeof(name)) || !fy_valid_thing_name(name)) {
        fprintf(stderr, "fleetyard-sim: --name gives an invalid thing name for %u\n", idx);
        return -1;
    }
    if (sim_names_has(&p->done, name)) {
        p->reused++;
        return 0;
    }
    sim_pct_encode(name, false, enc, sizeof(enc));
    if (mark_started(p, name) || create_thing(p, enc, idx) ||
        ensure_cert(p, name, arn, sizeof(arn)) || attach(p, name, enc, arn) ||
        sim_state_mark_done(p->o->state_dir, name)) {
        return -1;
    }
    p->created++;
    return 0;
}

/* The policy, thing type and groups, each created unless it exists. */
static int prerequisites(struct prov *p)
{
    const struct sim_opts *o = p->o;
    char enc[512], path[600], doc[16384];
    const char *text = default_policy;
    if (o->policy_file) {
        FILE *f = fopen(o->policy_file, "r");
        size_t n = f ? fread(doc, 1, sizeof(doc) - 1, f) : 0;
        if (f) {
            fclose(f);
        }
        if (n == 0) {
            fprintf(stderr, "fleetyard-sim: cannot read %s\n", o->policy_file);
            return -1;
        }
        doc[n] = '\0';
        text = doc;
    }
    sim_pct_encode(o->policy, false, enc, sizeof(enc));
    snprintf(path, sizeof(path), "/policies/%s", enc);
    if (call_json(p, "POST", path, json_pack("{s:s}", "policyDocument", text), OK200_409)) {
        return -1;
    }
    if (o->thing_type) {
        sim_pct_encode(o->thing_type, false, enc, sizeof(enc));
        snprintf(path, sizeof(path), "/thing-types/%s", enc);
        if (call_json(p, "POST", path, json_object(), OK200_409)) {
            return -1;
        }
    }
    for (size_t i = 0; i < o->n_groups; i++) {
        sim_pct_encode(o->groups[i], false, enc, sizeof(enc));
        snprintf(path, sizeof(path), "/thing-groups/%s", enc);
        if (call_json(p, "POST", path, json_object(), OK200_409)) {
            return -1;
        }
    }
    return 0;
}

void sim_progress(const struct sim_opts *o,
                  const char *what,
                  uint64_t done,
                  uint64_t total,
                  uint64_t t0,
                  uint64_t *last,
                  bool final)
{
    uint64_t now = sim_now();
    if (o->quiet || (!final && now - *last < 1000000000ull)) {
        return;
    }
    *last = now;
    double secs = (double)(now - t0) / 1e9;
    fprintf(stderr, "%s%s %llu/%llu (%.0f/s, %.1f s)%s", isatty(2) ? "\r" : "", what,
            (unsigned long long)done, (unsigned long long)total,
            secs > 0 ? (double)done / secs : 0.0, secs, isatty(2) && !final ? "" : "\n");
}

static int report(const struct prov *p, const char *mode, unsigned count)
{
    double secs = (double)(sim_now() - p->t0) / 1e9;
    if (p->o->json) {
        return sim_report_json(json_pack(
            "{s:s, s:I, s:I, s:I, s:I, s:I, s:f}", "mode", mode, "devices", (json_int_t)count,
            "done", (json_int_t)p->created, "reused", (json_int_t)p->reused, "failed",
            (json_int_t)p->failed, "requests", (json_int_t)p->api.requests, "seconds", secs));
    }
    printf("%s: %u devices, %u done, %u already there, %u failed, %lu requests in %.1f s\n", mode,
           count, p->created, p->reused, p->failed, p->api.requests, secs);
    return 0;
}

static int prov_start(struct prov *p, const struct sim_opts *o)
{
    memset(p, 0, sizeof(*p));
    p->o = o;
    p->t0 = sim_now();
    if (!o->state_dir || o->count == 0) {
        fprintf(stderr, "fleetyard-sim: --state DIR and --count N are required\n");
        return -1;
    }
    if (sim_api_init(&p->api, o->endpoint, o->region) || sim_state_open(o->state_dir) ||
        sim_state_load(o->state_dir, &p->done)) {
        return -1;
    }
    return 0;
}

int sim_mode_provision(const struct sim_opts *o)
{
    struct prov p;
    int rc = prov_start(&p, o) == 0 && prerequisites(&p) == 0 ? 0 : 2;
    for (unsigned i = 0; rc == 0 && i < o->count && !sim_stop_requested; i++) {
        if (provision_one(&p, o->id_offset + i) != 0 && ++p.failed >= 10) {
            fprintf(stderr, "fleetyard-sim: giving up after 10 failures\n");
            break;
        }
        sim_progress(o, "provisioned", i + 1, o->count, p.t0, &p.last_progress, false);
    }
    if (rc == 0) {
        sim_progress(o, "provisioned", p.created + p.reused, o->count, p.t0, &p.last_progress,
                     true);
        rc = report(&p, "provision", o->count) == 0 && p.failed == 0 ? 0 : 1;
    }
    sim_api_close(&p.api);
    sim_names_free(&p.done);
    return rc;
}
