/* Jobs storage, device protocol and rollout engine on a temp database with a fake clock:
 * targeting (things, nested groups, continuous joins and leaves), the device operations and
 * their rejections, notify bookkeeping, concurrency and rate limits, in-progress and step
 * timeouts, retries, abort thresholds, cancellation, deletion and completion. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/json.h"
#include "core/log.h"
#include "jobs/jobs.h"
#include "registry/groups.h"
#include "registry/registry.h"
#include "tests/unit/tap.h"
#include "tests/unit/tempdb.h"

#define T0 1.8e9

static const struct fy_site SITE = {"us-east-1", "123456789012"};
static struct fy_db *db;

static void mk_thing(const char *name)
{
    struct fy_thing_spec spec = {name, NULL, NULL, NULL};
    struct fy_thing_created out;
    struct fy_errmsg em;
    if (fy_thing_create(db, &SITE, &spec, &out, &em) != FY_ERR_OK) {
        ok(0, "create thing %s: %s", name, em.msg);
    }
}

static void mk_group(const char *name, const char *parent)
{
    struct fy_group_props props = {NULL, NULL, false};
    char id[FY_UUID_LEN + 1], arn[256];
    struct fy_errmsg em;
    fy_arn_fmt(arn, sizeof(arn), &SITE, "thinggroup", name);
    if (fy_group_create(db, name, parent, &props, NULL, arn, id, &em) != FY_ERR_OK) {
        ok(0, "create group %s: %s", name, em.msg);
    }
}

static void join(const char *group, const char *thing)
{
    struct fy_errmsg em;
    if (fy_group_add_thing(db, group, thing, false, &em) != FY_ERR_OK) {
        ok(0, "add %s to %s: %s", thing, group, em.msg);
    }
}

/* Things the last create() released executions to (its first wave). */
static struct fy_jobs_changed created;

/* CreateJob with a JSON body text. */
static fy_err create(const char *id, const char *body, double now, struct fy_errmsg *em)
{
    char arn[256];
    json_t *j = json_loads(body, 0, NULL);
    fy_jobs_changed_clear(&created);
    fy_err e =
        j ? fy_job_create(db, &SITE, id, j, now, arn, sizeof(arn), &created, em) : FY_ERR_INTERNAL;
    json_decref(j);
    return e;
}

static json_int_t counter(const char *id, const char *name)
{
    json_t *j = NULL;
    struct fy_errmsg em;
    if (fy_job_describe(db, &SITE, id, &j, &em) != FY_ERR_OK) {
        return -1;
    }
    json_int_t v = json_integer_value(
        json_object_get(json_object_get(json_object_get(j, "job"), "jobProcessDetails"), name));
    json_decref(j);
    return v;
}

static char *job_status(const char *id)
{
    static char buf[32];
    json_t *j = NULL;
    struct fy_errmsg em;
    buf[0] = '\0';
    if (fy_job_describe(db, &SITE, id, &j, &em) == FY_ERR_OK) {
        snprintf(buf, sizeof(buf), "%s",
                 json_string_value(json_object_get(json_object_get(j, "job"), "status")));
    }
    json_decref(j);
    return buf;
}

static size_t tick(double now)
{
    struct fy_jobs_changed c = {0};
    struct fy_errmsg em = {""};
    fy_err e = fy_jobs_tick(db, now, &c, &em);
    size_t n = c.n;
    if (e) {
        ok(0, "tick: %s", em.msg);
    }
    fy_jobs_changed_clear(&c);
    return n;
}

/* A device call; returns the error and leaves the accepted payload (or "") in out. */
static fy_err dev(const char *op,
                  const char *thing,
                  const char *job,
                  const char *payload,
                  double now,
                  char *out,
                  size_t n,
                  struct fy_jobs_reply *keep)
{
    struct fy_jobs_reply r;
    struct fy_errmsg em = {""};
    size_t len = strlen(payload);
    fy_err e;
    if (strcmp(op, "get") == 0) {
        e = fy_jobs_get_pending(db, thing, payload, len, now, &r, &em);
    } else if (strcmp(op, "start") == 0) {
        e = fy_jobs_start_next(db, thing, payload, len, now, &r, &em);
    } else if (strcmp(op, "describe") == 0) {
        e = fy_jobs_describe(db, thing, job, NULL, payload, len, now, &r, &em);
    } else {
        e = fy_jobs_update(db, thing, job, NULL, payload, len, now, &r, &em);
    }
    if (e) {
        char *rej = fy_jobs_rejection(&r, e, em.msg, now);
        snprintf(out, n, "%s", rej ? rej : "");
        fy_free(rej);
    } else {
        snprintf(out, n, "%s", r.payload);
    }
    if (keep) {
        *keep = r;
    } else {
        fy_jobs_reply_clear(&r);
    }
    return e;
}

static void test_targets_and_device(void)
{
    struct fy_errmsg em = {""};
    char out[4096];
    mk_thing("t1");
    mk_thing("t2");
    mk_thing("t3");
    mk_thing("t4");
    mk_group("g1", NULL);
    mk_group("g2", "g1");
    join("g1", "t1");
    join("g1", "t2");
    join("g2", "t3");
    ok(create("j1",
              "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thinggroup/g1\"],"
              "\"document\":\"{\\\"op\\\":\\\"x\\\"}\"}",
              T0, &em) == FY_ERR_OK,
       "create j1 on g1 (nested g2): %s", em.msg);
    ok(counter("j1", "numberOfQueuedThings") == 3, "three queued things incl. the nested group");
    ok(create("j1",
              "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thing/t1\"],"
              "\"document\":\"{}\"}",
              T0, &em) == FY_ERR_ALREADY_EXISTS,
       "same id again: already exists");
    ok(create("jx",
              "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thing/nope\"],"
              "\"document\":\"{}\"}",
              T0, &em) == FY_ERR_NOT_FOUND &&
           strcmp(job_status("jx"), "") == 0,
       "missing thing target: not found, nothing created");
    ok(create("jy",
              "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thing/t1\"],"
              "\"document\":\"[1]\"}",
              T0, &em) == FY_ERR_INVALID_REQUEST,
       "document must be an object");
    ok(create("jy", "{\"targets\":[],\"document\":\"{}\"}", T0, &em) == FY_ERR_INVALID_REQUEST,
       "empty targets refused");
    ok(dev("get", "t1", NULL, "", T0, out, sizeof(out), NULL) == FY_ERR_OK &&
           strstr(out, "\"queuedJobs\":[{\"jobId\":\"j1\""),
       "CreateJob released the first wave itself, before any engine pass: %s", out);
    ok(create("j9", "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thing/t1\"]}", T0, &em) ==
           FY_ERR_INVALID_REQUEST,
       "a refused create releases nothing");
    ok(tick(T0 + 0.2) == 0, "nothing left for the engine to release");
    ok(dev("get", "t1", NULL, "{\"clientToken\":\"ct\"}", T0 + 1, out, sizeof(out), NULL) ==
               FY_ERR_OK &&
           strstr(out, "\"queuedJobs\":[{\"jobId\":\"j1\"") &&
           strstr(out, "\"clientToken\":\"ct\""),
       "get lists j1 queued: %s", out);
    ok(dev("start", "t1", NULL, "{\"statusDetails\":{\"step\":\"1\"}}", T0 + 2, out, sizeof(out),
           NULL) == FY_ERR_OK &&
           strstr(out, "\"status\":\"IN_PROGRESS\"") && strstr(out, "\"jobDocument\":{\"op\""),
       "start-next: IN_PROGRESS with the document: %s", out);
    ok(dev("update", "t1", "j1", "{\"status\":\"SUCCEEDED\",\"expectedVersion\":1}", T0 + 3, out,
           sizeof(out), NULL) == FY_ERR_VERSION_CONFLICT &&
           strstr(out, "\"code\":\"VersionMismatch\"") &&
           strstr(out, "\"executionState\":{\"status\":\"IN_PROGRESS\""),
       "stale expectedVersion: VersionMismatch with executionState: %s", out);
    ok(dev("update", "t1", "j1",
           "{\"status\":\"SUCCEEDED\",\"expectedVersion\":2,\"includeJobExecutionState\":true,"
           "\"includeJobDocument\":true,\"clientToken\":\"u1\"}",
           T0 + 3, out, sizeof(out), NULL) == FY_ERR_OK &&
           strstr(out, "\"executionState\":{\"status\":\"SUCCEEDED\"") &&
           strstr(out, "\"jobDocument\":{") && strstr(out, "\"versionNumber\":3"),
       "update SUCCEEDED: %s", out);
    ok(dev("update", "t1", "j1", "{\"status\":\"IN_PROGRESS\"}", T0 + 4, out, sizeof(out), NULL) ==
               FY_ERR_INVALID_STATE_TRANSITION &&
           strstr(out, "\"code\":\"InvalidStateTransition\""),
       "terminal execution: InvalidStateTransition: %s", out);
    ok(dev("update", "t2", "j1", "{\"status\":\"TIMED_OUT\"}", T0 + 4, out, sizeof(out), NULL) ==
               FY_ERR_INVALID_REQUEST &&
           strstr(out, "\"code\":\"InvalidRequest\""),
       "devices cannot set TIMED_OUT");
    ok(dev("update", "t2", "j1", "{\"status\":\"SUCCEEDED\",\"bogus\":1}", T0 + 4, out, sizeof(out),
           NULL) == FY_ERR_INVALID_REQUEST,
       "unknown member refused");
    ok(dev("update", "t2", "j1", "{not json", T0 + 4, out, sizeof(out), NULL) ==
               FY_ERR_INVALID_REQUEST &&
           strstr(out, "\"code\":\"InvalidJson\""),
       "bad JSON: InvalidJson: %s", out);
    ok(dev("describe", "t4", "j1", "", T0 + 4, out, sizeof(out), NULL) == FY_ERR_NOT_FOUND &&
           strstr(out, "ResourceNotFound"),
       "untargeted thing: ResourceNotFound");
    ok(dev("describe", "t2", "$next", "{\"includeJobDocument\":false}", T0 + 4, out, sizeof(out),
           NULL) == FY_ERR_OK &&
           strstr(out, "\"jobId\":\"j1\"") && !strstr(out, "jobDocument"),
       "$next/get without the document: %s", out);
    ok(counter("j1", "numberOfSucceededThings") == 1 && counter("j1", "numberOfQueuedThings") == 2,
       "counters: 1 succeeded, 2 queued");
    for (const char *t = "t2"; t; t = strcmp(t, "t2") == 0 ? "t3" : NULL) {
        dev("update", t, "j1", "{\"status\":\"SUCCEEDED\"}", T0 + 5, out, sizeof(out), NULL);
    }
    tick(T0 + 6);
    ok(strcmp(job_status("j1"), "COMPLETED") == 0, "snapshot job completes when all are done");
}

static void test_notify(void)
{
    struct fy_errmsg em = {""};
    struct fy_jobs_reply r;
    char out[4096], *n1 = NULL, *n2 = NULL;
    ok(create("n1",
              "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thing/t4\"],"
              "\"document\":\"{\\\"a\\\":1}\"}",
              T0, &em) == FY_ERR_OK,
       "create n1 on t4");
    struct fy_jobs_changed c = {0};
    ok(created.n == 1 && created.items[0].notify && created.items[0].notify_next &&
           strcmp(created.items[0].thing, "t4") == 0,
       "release of t4's first job by the create: notify and notify-next");
    ok(fy_jobs_tick(db, T0 + 10, &c, &em) == FY_ERR_OK && c.n == 0, "nothing for the engine");
    fy_jobs_changed_clear(&c);
    fy_err e = fy_jobs_notify_payloads(db, "t4", T0 + 10, &n1, &n2, &em);
    ok(e == FY_ERR_OK && strstr(n1, "\"jobs\":{\"QUEUED\":[{\"jobId\":\"n1\"") &&
           strstr(n2, "\"execution\":{") && strstr(n2, "\"jobDocument\":{\"a\":1}"),
       "payloads: %s %s", n1, n2);
    FY_FREE(n1);
    FY_FREE(n2);
    dev("start", "t4", NULL, "", T0 + 11, out, sizeof(out), &r);
    ok(r.changed.n == 1 && !r.changed.items[0].notify && !r.changed.items[0].notify_next,
       "QUEUED -> IN_PROGRESS changes neither list nor next");
    fy_jobs_reply_clear(&r);
    dev("update", "t4", "n1", "{\"status\":\"FAILED\"}", T0 + 12, out, sizeof(out), &r);
    ok(r.changed.n == 1 && r.changed.items[0].notify && r.changed.items[0].notify_next,
       "terminal: notify and notify-next");
    fy_jobs_reply_clear(&r);
    e = fy_jobs_notify_payloads(db, "t4", T0 + 12, &n1, &n2, &em);
    ok(e == FY_ERR_OK && strstr(n1, "\"jobs\":{}") && strcmp(n2, "{\"timestamp\":1800000012}") == 0,
       "empty payloads: %s %s", n1, n2);
    fy_free(n1);
    fy_free(n2);
    ok(create("n2",
              "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thing/t4\"],"
              "\"document\":\"{}\",\"jobExecutionsRetryConfig\":{\"criteriaList\":[{"
              "\"failureType\":\"FAILED\",\"numberOfRetries\":1}]}}",
              T0 + 13, &em) == FY_ERR_OK,
       "create n2 on t4 with one retry");
    tick(T0 + 14);
    dev("update", "t4", "n2", "{\"status\":\"FAILED\"}", T0 + 15, out, sizeof(out), &r);
    ok(r.changed.n == 1 && r.changed.items[0].notify && r.changed.items[0].notify_next,
       "a failure retried at once is a new next execution: notify-next");
    fy_jobs_reply_clear(&r);
    ok(dev("describe", "t4", "$next", "", T0 + 15, out, sizeof(out), NULL) == FY_ERR_OK &&
           strstr(out, "\"executionNumber\":2"),
       "the device's next is attempt 2: %s", out);
}

/* Things c0..c(n-1) in a new group. */
static void fleet(const char *group, int n)
{
    char name[32];
    mk_group(group, NULL);
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "%s-%02d", group, i);
        mk_thing(name);
        join(group, name);
    }
}

static const char SQL_SIG_ROWS[] = "SELECT count(*) FROM settings WHERE key = 'jobs.sync_sig'";

/* With no live job a pass skips the membership signature, a scan of every thing, and writes
 * nothing; a continuous job that comes later still syncs its targets. */
static void test_idle_signature(void)
{
    struct fy_errmsg em = {""};
    struct fy_jobs_changed c = {0};
    fleet("idle", 1);
    tick(T0);
    ok(tdb_int(db, SQL_SIG_ROWS) == 0, "no live job: no membership signature taken or stored");
    ok(create("idle-cont",
              "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thinggroup/idle\"],"
              "\"document\":\"{}\",\"targetSelection\":\"CONTINUOUS\"}",
              T0, &em) == FY_ERR_OK,
       "create continuous idle-cont");
    tick(T0 + 1);
    ok(tdb_int(db, SQL_SIG_ROWS) == 1, "a live job: the signature is stored");
    mk_thing("idle-late");
    join("idle", "idle-late");
    tick(T0 + 2);
    ok(counter("idle-cont", "numberOfQueuedThings") == 2, "a thing joining later is targeted");
    ok(fy_job_cancel(db, "idle-cont", true, NULL, NULL, T0 + 3, &c, &em) == FY_ERR_OK &&
           fy_job_delete(db, "idle-cont", false, T0 + 3, &c, &em) == FY_ERR_OK,
       "cancel and delete idle-cont");
    tick(T0 + 4);
    ok(strcmp(job_status("idle-cont"), "") == 0, "idle-cont purged");
    fy_jobs_changed_clear(&c);
}

/* Under an allocation failure a reply fails whole, never goes out without a member it carries:
 * a rejection's executionState with its statusDetails, DescribeJob's and ListJobs' completedAt,
 * the device's statusDetails. Each loop fails every allocation of the call in turn (until a run
 * makes fewer allocations than n) and counts the runs that answered without the member. */
static bool dev_partial(const char *op, const char *payload, fy_err want, const char *member)
{
    char out[4096];
    fy_err e = dev(op, "af-00", "af", payload, T0 + 2, out, sizeof(out), NULL);
    /* out is "" when no rejection could be built; an error before the version check is an
     * InternalError, without state */
    return e == want && out[0] && !strstr(out, member);
}

static bool describe_partial(void)
{
    json_t *j = NULL;
    struct fy_errmsg em;
    fy_err e = fy_job_describe(db, &SITE, "af", &j, &em);
    bool partial = e == FY_ERR_OK && !json_object_get(json_object_get(j, "job"), "completedAt");
    json_decref(j);
    return partial;
}

static bool list_partial(void)
{
    struct fy_job_filter f = {"COMPLETED", NULL, "af", NULL, NULL};
    struct fy_errmsg em;
    char *next = NULL;
    json_t *items = json_array();
    fy_err e = items ? fy_job_list(db, &SITE, &f, NULL, 10, items, &next, &em) : FY_ERR_NOMEM;
    bool partial = e == FY_ERR_OK && json_array_size(items) == 1 &&
                   !json_object_get(json_array_get(items, 0), "completedAt");
    json_decref(items);
    fy_free(next);
    return partial;
}

/* Runs check with each allocation failing in turn; returns the runs that answered partially
 * and sets *points to the allocations failed. */
static int each_failure(bool (*check)(void *), void *arg, int *points)
{
    int partial = 0;
    for (*points = 0; *points < 1000; (*points)++) {
        fy_alloc_fail_at((unsigned long)*points + 1);
        bool p = check(arg);
        bool reached = !fy_alloc_fail_pending();
        fy_alloc_fail_at(0);
        if (!reached) {
            break;
        }
        partial += p;
    }
    return partial;
}

static bool stale_update(void *arg)
{
    (void)arg;
    return dev_partial("update", "{\"status\":\"SUCCEEDED\",\"expectedVersion\":9}",
                       FY_ERR_VERSION_CONFLICT, "\"statusDetails\":{\"k\":\"v\"}");
}

static bool device_describe(void *arg)
{
    (void)arg;
    return dev_partial("describe", "", FY_ERR_OK, "\"statusDetails\":{\"k\":\"v\"}");
}

static bool job_describe(void *arg)
{
    (void)arg;
    return describe_partial();
}

static bool job_list(void *arg)
{
    (void)arg;
    return list_partial();
}

static void test_alloc_failures(void)
{
    struct fy_errmsg em = {""};
    char out[4096];
    int points, partial;
    fleet("af", 1);
    ok(create("af",
              "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thinggroup/af\"],"
              "\"document\":\"{}\"}",
              T0, &em) == FY_ERR_OK &&
           dev("start", "af-00", NULL, "{\"statusDetails\":{\"k\":\"v\"}}", T0 + 1, out,
               sizeof(out), NULL) == FY_ERR_OK,
       "job af started with statusDetails");
    partial = each_failure(stale_update, NULL, &points);
    ok(points > 1 && partial == 0 && !stale_update(NULL),
       "VersionMismatch: %d failure points, %d rejections without their state", points, partial);
    partial = each_failure(device_describe, NULL, &points);
    ok(points > 1 && partial == 0, "device describe: %d failure points, %d without statusDetails",
       points, partial);
    ok(dev("update", "af-00", "af", "{\"status\":\"SUCCEEDED\"}", T0 + 3, out, sizeof(out), NULL) ==
           FY_ERR_OK,
       "af-00 succeeds");
    tick(T0 + 4);
    ok(strcmp(job_status("af"), "COMPLETED") == 0, "af completed");
    partial = each_failure(job_describe, NULL, &points);
    ok(points > 1 && partial == 0, "DescribeJob: %d failure points, %d without completedAt", points,
       partial);
    partial = each_failure(job_list, NULL, &points);
    ok(points > 1 && partial == 0, "ListJobs: %d failure points, %d summaries without completedAt",
       points, partial);
}

/* Released executions of job id not finished yet (the quantity the concurrency limit caps). */
static int64_t released_unfinished(const char *id)
{
    static const char SQL[] = "SELECT count(*) FROM job_executions x JOIN jobs j ON j.id = x.job "
                              "WHERE j.job_id = ? AND x.released = 1 AND x.status IN "
                              "('QUEUED','IN_PROGRESS')";
    struct fy_errmsg em;
    sqlite3_stmt *st = fy_db_stmt(db, SQL, &em);
    int64_t n = -1;
    if (st) {
        fy_bind_text(st, 1, id);
        n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
        fy_stmt_done(st);
    }
    return n;
}

/* Executions not yet finished (queued, released or not, and in progress). */
static json_int_t in_flight(const char *id)
{
    return counter(id, "numberOfInProgressThings") + counter(id, "numberOfQueuedThings");
}

static void test_concurrency(void)
{
    struct fy_errmsg em = {""};
    char out[4096];
    fleet("cc", 10);
    ok(create("cc",
              "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thinggroup/cc\"],"
              "\"document\":\"{}\",\"jobExecutionsConfig\":{\"maxConcurrentExecutions\":3}}",
              T0, &em) == FY_ERR_OK,
       "create cc with maxConcurrentExecutions 3: %s", em.msg);
    ok(created.n == 3, "the create releases 3 (%zu)", created.n);
    ok(tick(T0 + 1) == 0, "the first pass releases none more");
    ok(tick(T0 + 2) == 0, "no more while 3 are in flight");
    int done_count = 0;
    int64_t most = released_unfinished("cc");
    struct fy_jobs_reply r;
    for (int round = 0; round < 20 && done_count < 10; round++) {
        for (int i = 0; i < 10; i++) {
            char name[32];
            snprintf(name, sizeof(name), "cc-%02d", i);
            if (dev("describe", name, "cc", "", T0 + 3, out, sizeof(out), NULL) != FY_ERR_OK ||
                !strstr(out, "\"status\":\"QUEUED\"")) {
                continue;
            }
            if (dev("update", name, "cc", "{\"status\":\"SUCCEEDED\"}", T0 + 3 + round, out,
                    sizeof(out), &r) == FY_ERR_OK) {
                done_count++;
            }
            int64_t now_flight = released_unfinished("cc");
            most = now_flight > most ? now_flight : most;
            fy_jobs_reply_clear(&r);
        }
        tick(T0 + 4 + round);
        int64_t now_flight = released_unfinished("cc");
        most = now_flight > most ? now_flight : most;
    }
    ok(most == 3 && done_count == 10,
       "released and unfinished never above 3 (max %lld), all %d done; a finish releases the "
       "next at once",
       (long long)most, done_count);
    ok(strcmp(job_status("cc"), "COMPLETED") == 0 && in_flight("cc") == 0, "cc completed");
}

static void test_rate(void)
{
    struct fy_errmsg em = {""};
    fleet("rt", 5);
    ok(create("rt",
              "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thinggroup/rt\"],"
              "\"document\":\"{}\",\"jobExecutionsRolloutConfig\":{\"maximumPerMinute\":2}}",
              T0, &em) == FY_ERR_OK,
       "create rt with maximumPerMinute 2");
    ok(created.n == 2 && tick(T0 + 1) == 0, "2 released in the first minute, by the create");
    ok(tick(T0 + 30) == 0, "none more 30 s later");
    ok(tick(T0 + 61.5) == 2, "2 more after a minute");
    ok(tick(T0 + 122) == 1, "the last one after two minutes");
}

static void test_timeouts_and_retries(void)
{
    struct fy_errmsg em = {""};
    char out[4096];
    mk_thing("to1");
    ok(create("to",
              "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thing/to1\"],"
              "\"document\":\"{}\",\"timeoutConfig\":{\"inProgressTimeoutInMinutes\":2},"
              "\"jobExecutionsRetryConfig\":{\"criteriaList\":[{\"failureType\":"
              "\"TIMED_OUT\",\"numberOfRetries\":1}]}}",
              T0, &em) == FY_ERR_OK,
       "create to: 2 min timeout, 1 retry on TIMED_OUT: %s", em.msg);
    tick(T0 + 1);
    dev("start", "to1", NULL, "{\"stepTimeoutInMinutes\":1}", T0 + 2, out, sizeof(out), NULL);
    tick(T0 + 61);
    ok(dev("describe", "to1", "to", "", T0 + 61, out, sizeof(out), NULL) == FY_ERR_OK &&
           strstr(out, "IN_PROGRESS"),
       "still in progress at 59 s");
    tick(T0 + 62.5);
    ok(dev("describe", "to1", "to", "{\"executionNumber\":1}", T0 + 63, out, sizeof(out), NULL) ==
               FY_ERR_OK &&
           strstr(out, "TIMED_OUT"),
       "step timer expired: TIMED_OUT: %s", out);
    ok(dev("describe", "to1", "to", "", T0 + 63, out, sizeof(out), NULL) == FY_ERR_OK &&
           strstr(out, "\"executionNumber\":2") && strstr(out, "QUEUED"),
       "retry: execution 2 queued: %s", out);
    dev("start", "to1", NULL, "", T0 + 64, out, sizeof(out), NULL);
    dev("update", "to1", "to", "{\"status\":\"IN_PROGRESS\",\"stepTimeoutInMinutes\":-1}", T0 + 65,
        out, sizeof(out), NULL);
    tick(T0 + 64 + 119);
    ok(dev("describe", "to1", "to", "", T0 + 190, out, sizeof(out), NULL) == FY_ERR_OK &&
           strstr(out, "IN_PROGRESS"),
       "in-progress timer not yet expired");
    tick(T0 + 64 + 121);
    ok(dev("describe", "to1", "to", "", T0 + 190, out, sizeof(out), NULL) == FY_ERR_OK &&
           strstr(out, "TIMED_OUT") && strstr(out, "\"executionNumber\":2"),
       "in-progress timeout: attempt 2 TIMED_OUT, no third attempt: %s", out);
    ok(counter("to", "numberOfTimedOutThings") == 1 && strcmp(job_status("to"), "COMPLETED") == 0,
       "one timed-out thing; job completed");
}

static void test_abort(void)
{
    struct fy_errmsg em = {""};
    char out[4096];
    fleet("ab", 6);
    ok(create("ab",
              "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thinggroup/ab\"],"
              "\"document\":\"{}\",\"jobExecutionsConfig\":{\"maxConcurrentExecutions\":2},"
              "\"abortConfig\":{\"criteriaList\":[{\"failureType\":\"FAILED\",\"action\":"
              "\"CANCEL\",\"thresholdPercentage\":50,\"minNumberOfExecutedThings\":2}]}}",
              T0, &em) == FY_ERR_OK,
       "create ab with abort at 50%% FAILED after 2");
    tick(T0 + 1);
    dev("update", "ab-00", "ab", "{\"status\":\"FAILED\"}", T0 + 2, out, sizeof(out), NULL);
    tick(T0 + 3);
    ok(strcmp(job_status("ab"), "IN_PROGRESS") == 0, "one failure of one: below the minimum");
    dev("update", "ab-02", "ab", "{\"status\":\"IN_PROGRESS\"}", T0 + 3, out, sizeof(out), NULL);
    dev("update", "ab-01", "ab", "{\"status\":\"SUCCEEDED\"}", T0 + 4, out, sizeof(out), NULL);
    ok(strcmp(job_status("ab"), "CANCELED") == 0,
       "1 of 2 failed (50%%): job canceled by that update, before any engine pass");
    ok(counter("ab", "numberOfCanceledThings") == 3 &&
           counter("ab", "numberOfInProgressThings") == 1,
       "queued ones canceled (%lld), in-progress left (%lld)",
       (long long)counter("ab", "numberOfCanceledThings"),
       (long long)counter("ab", "numberOfInProgressThings"));
}

static void test_cancel_delete_continuous(void)
{
    struct fy_errmsg em = {""};
    struct fy_jobs_changed c = {0};
    char out[4096];
    fleet("cn", 2);
    ok(create("cn",
              "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thinggroup/cn\"],"
              "\"document\":\"{}\",\"targetSelection\":\"CONTINUOUS\"}",
              T0, &em) == FY_ERR_OK,
       "create continuous cn");
    tick(T0 + 1);
    mk_thing("cn-late");
    join("cn", "cn-late");
    tick(T0 + 2);
    ok(counter("cn", "numberOfQueuedThings") == 3, "a thing joining later gets an execution");
    ok(fy_group_remove_thing(db, "cn", "cn-late", &em) == FY_ERR_OK, "cn-late leaves");
    tick(T0 + 3);
    ok(counter("cn", "numberOfRemovedThings") == 1, "its pending execution is REMOVED");
    dev("start", "cn-00", NULL, "", T0 + 4, out, sizeof(out), NULL);
    ok(fy_job_delete(db, "cn", false, T0 + 5, &c, &em) == FY_ERR_INVALID_STATE_TRANSITION,
       "delete without force refused while in progress");
    ok(fy_job_cancel(db, "cn", false, "MY_REASON", "because", T0 + 5, &c, &em) == FY_ERR_OK &&
           strcmp(job_status("cn"), "CANCELED") == 0,
       "cancel without force");
    ok(counter("cn", "numberOfInProgressThings") == 1 &&
           counter("cn", "numberOfCanceledThings") == 1,
       "in-progress execution survives a cancel without force");
    ok(fy_job_cancel(db, "cn", true, NULL, NULL, T0 + 6, &c, &em) == FY_ERR_OK &&
           counter("cn", "numberOfCanceledThings") == 2,
       "cancel with force cancels it too");
    ok(fy_job_cancel(db, "cn", false, "bad reason", NULL, T0 + 6, &c, &em) ==
           FY_ERR_INVALID_REQUEST,
       "reasonCode pattern enforced");
    ok(fy_job_delete(db, "cn", false, T0 + 7, &c, &em) == FY_ERR_OK &&
           strcmp(job_status("cn"), "DELETION_IN_PROGRESS") == 0,
       "canceled job deletes without force");
    ok(fy_job_cancel(db, "cn", true, NULL, NULL, T0 + 7, &c, &em) == FY_ERR_INVALID_REQUEST,
       "cancel during deletion refused");
    tick(T0 + 8);
    ok(strcmp(job_status("cn"), "") == 0, "purged by the engine");
    ok(create("cn",
              "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thinggroup/cn\"],"
              "\"document\":\"{}\"}",
              T0 + 9, &em) == FY_ERR_OK,
       "job id reusable after deletion");
    fy_jobs_changed_clear(&c);
}

static void test_scheduled(void)
{
    struct fy_errmsg em = {""};
    mk_thing("sc1");
    ok(create("sc",
              "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thing/sc1\"],"
              "\"document\":\"{}\",\"schedulingConfig\":{\"startTime\":\"2027-01-15T09:00\","
              "\"endTime\":\"2027-01-15T10:00\",\"endBehavior\":\"CANCEL\"}}",
              fy_jobs_parse_time("2027-01-15T08:45"), &em) == FY_ERR_INVALID_REQUEST,
       "a start time less than 30 minutes ahead is refused");
    double now = fy_jobs_parse_time("2027-01-15T08:00");
    ok(create("sc",
              "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thing/sc1\"],"
              "\"document\":\"{}\",\"schedulingConfig\":{\"startTime\":\"2027-01-15T09:00\","
              "\"endTime\":\"2027-01-15T10:00\",\"endBehavior\":\"CANCEL\"}}",
              now, &em) == FY_ERR_OK &&
           strcmp(job_status("sc"), "SCHEDULED") == 0,
       "scheduled job: %s", em.msg);
    char out[4096];
    tick(now + 60);
    ok(strcmp(job_status("sc"), "SCHEDULED") == 0 &&
           dev("describe", "sc1", "$next", "", now + 60, out, sizeof(out), NULL) == FY_ERR_OK &&
           !strstr(out, "execution"),
       "nothing released before start: %s", out);
    tick(now + 3600);
    ok(strcmp(job_status("sc"), "IN_PROGRESS") == 0, "started at startTime");
    tick(now + 3601);
    ok(dev("describe", "sc1", "$next", "", now + 3601, out, sizeof(out), NULL) == FY_ERR_OK &&
           strstr(out, "\"jobId\":\"sc\""),
       "then released: %s", out);
    tick(now + 7200);
    ok(strcmp(job_status("sc"), "CANCELED") == 0, "endBehavior CANCEL at endTime");
}

/* A job over more things than one materialization window, and a creation interrupted after its
 * job row (as by a crash) that the engine finishes. */
static void test_windows_and_resume(void)
{
    struct fy_errmsg em = {""};
    char sql[256];
    int n = 2 * FY_JOBS_WINDOW + 7;
    mk_group("wide", NULL);
    fy_err e = fy_db_exec(db, "BEGIN", &em);
    for (int i = 0; !e && i < n; i++) {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO things(name, thing_id, creation_date, modified_date) "
                 "VALUES ('w%05d', 'x', 0, 0)",
                 i);
        e = fy_db_exec(db, sql, &em);
        snprintf(sql, sizeof(sql),
                 "INSERT INTO thing_group_members(grp, thing, added) SELECT g.id, t.id, 0 FROM "
                 "thing_groups g, things t WHERE g.name = 'wide' AND t.name = 'w%05d'",
                 i);
        e = e ? e : fy_db_exec(db, sql, &em);
    }
    e = e ? e : fy_db_exec(db, "COMMIT", &em);
    ok(e == FY_ERR_OK, "%d things in group wide: %s", n, em.msg);
    ok(create("wide",
              "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thinggroup/wide\"],"
              "\"document\":\"{}\"}",
              T0, &em) == FY_ERR_OK &&
           counter("wide", "numberOfQueuedThings") == n,
       "one execution per thing across three windows");
    e = fy_db_exec(db,
                   "DELETE FROM job_executions WHERE job = (SELECT id FROM jobs WHERE job_id = "
                   "'wide') AND thing_name >= 'w03000'",
                   &em);
    snprintf(sql, sizeof(sql),
             "INSERT INTO settings(key, value) SELECT 'jobs.materialize.' || id, '0' FROM jobs "
             "WHERE job_id = 'wide'");
    e = e ? e : fy_db_exec(db, sql, &em);
    ok(e == FY_ERR_OK && counter("wide", "numberOfQueuedThings") == 3000,
       "simulated crash: 3000 of %d created", n);
    tick(T0 + 1);
    ok(counter("wide", "numberOfQueuedThings") == n, "the engine finished the creation: %lld",
       (long long)counter("wide", "numberOfQueuedThings"));
    tick(T0 + 2);
    ok(counter("wide", "numberOfQueuedThings") == n, "and created nothing twice");
    struct fy_jobs_changed c = {0, 0, NULL};
    fy_err ce = fy_job_cancel(db, "wide", false, NULL, NULL, T0 + 3, &c, &em);
    json_int_t canceled = counter("wide", "numberOfCanceledThings");
    ok(ce == FY_ERR_OK && canceled > FY_JOBS_WINDOW && canceled < n,
       "cancel: released executions and %d unreleased ones at once (%lld)", FY_JOBS_WINDOW,
       (long long)canceled);
    fy_jobs_changed_clear(&c);
    tick(T0 + 4);
    tick(T0 + 5);
    ok(counter("wide", "numberOfCanceledThings") == n &&
           counter("wide", "numberOfQueuedThings") == 0,
       "the engine cancels the rest in windows");
}

/* FY_JOBS_DELETING_MAX deletions in flight at once, then LimitExceeded until the engine purges. */
static void test_deleting_limit(void)
{
    struct fy_errmsg em = {""};
    struct fy_jobs_changed c = {0, 0, NULL};
    char id[16];
    fy_err e = FY_ERR_OK;
    mk_thing("del1");
    for (int i = 0; !e && i <= FY_JOBS_DELETING_MAX; i++) {
        snprintf(id, sizeof(id), "del%02d", i);
        e = create(id,
                   "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thing/del1\"],"
                   "\"document\":\"{}\"}",
                   T0, &em);
    }
    for (int i = 0; !e && i < FY_JOBS_DELETING_MAX; i++) {
        snprintf(id, sizeof(id), "del%02d", i);
        e = fy_job_delete(db, id, true, T0, &c, &em);
    }
    ok(e == FY_ERR_OK, "%d jobs being deleted", FY_JOBS_DELETING_MAX);
    snprintf(id, sizeof(id), "del%02d", FY_JOBS_DELETING_MAX);
    ok(fy_job_delete(db, id, true, T0, &c, &em) == FY_ERR_LIMIT_EXCEEDED &&
           strcmp(job_status(id), "IN_PROGRESS") == 0,
       "one more: LimitExceeded, job unchanged");
    tick(T0 + 1);
    ok(fy_job_delete(db, id, true, T0 + 2, &c, &em) == FY_ERR_OK, "accepted once purged");
    fy_jobs_changed_clear(&c);
}

/* A rider standing in for the audit record: it counts the job it rides with, then fails or not. */
static int64_t rider_saw;
static fy_err rider_fn(struct fy_db *d, void *fail, struct fy_errmsg *em)
{
    rider_saw = tdb_int(d, "SELECT count(*) FROM jobs WHERE job_id = 'ride1'");
    return fail ? fy_fail(em, FY_ERR_LIMIT_EXCEEDED, "rider refused") : FY_ERR_OK;
}

/* CreateJob's record rides in the transaction that creates the job (FY_DB_RETURN_IN_CHANGE_TX):
 * written with it, and a record that cannot be written leaves no job behind. */
static void test_create_rider(void)
{
    struct fy_errmsg em = {""};
    static const char body[] =
        "{\"targets\":[\"arn:aws:iot:us-east-1:123456789012:thing/ride-t\"],\"document\":\"{}\"}";
    mk_thing("ride-t");
    fy_db_rider_set(rider_fn, "fail");
    fy_err e = create("ride1", body, T0, &em);
    bool done = fy_db_rider_done();
    fy_db_rider_clear();
    ok(e == FY_ERR_LIMIT_EXCEEDED && !done && rider_saw == 1 &&
           tdb_int(db, "SELECT count(*) FROM jobs WHERE job_id = 'ride1'") == 0,
       "a failing rider fails the create and no job remains (%s)", fy_err_type(e));
    rider_saw = 0;
    fy_db_rider_set(rider_fn, NULL);
    e = create("ride1", body, T0, &em);
    done = fy_db_rider_done();
    fy_db_rider_clear();
    ok(e == FY_ERR_OK && done && rider_saw == 1, "the rider commits with the job, once");
}

int main(void)
{
    char path[] = "/tmp/fy-test-jobs-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    struct fy_errmsg em;
    fy_json_init();
    fy_log_threshold = FY_LOG_ERROR;
    if (!ok(fy_db_open(path, &db, &em) == FY_ERR_OK && fy_db_migrate(db, &em) == FY_ERR_OK,
            "open and migrate")) {
        return done();
    }
    test_idle_signature();
    test_targets_and_device();
    test_notify();
    test_concurrency();
    test_rate();
    test_timeouts_and_retries();
    test_abort();
    test_cancel_delete_continuous();
    test_scheduled();
    test_windows_and_resume();
    test_deleting_limit();
    test_create_rider();
    test_alloc_failures();
    fy_jobs_changed_clear(&created);
    fy_db_close(db);
    char side[64];
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
    return done();
}
