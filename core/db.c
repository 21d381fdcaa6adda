#include "core/db.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/fytime.h"
#include "core/log.h"
#include "core/stats.h"
#include "core/walvfs.h"

struct stmt_slot {
    const char *sql;
    sqlite3_stmt *st;
};

struct fy_db {
    sqlite3 *h;
    uint64_t tx_start_ns; /* when the open fy_db_begin transaction began (commit latency) */
    long busy_limit_ms;   /* 0: FY_DB_BUSY_TIMEOUT_MS (fy_db_busy_limit) */
    struct stmt_slot cache[FY_DB_STMT_CACHE];
};

fy_err fy_db_err(struct fy_db *db, int rc, struct fy_errmsg *em)
{
    const char *detail = db && db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc);
    int ext = db && db->h ? sqlite3_extended_errcode(db->h) : rc;
    if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return fy_fail(em, FY_ERR_ALREADY_EXISTS, "Resource already exists");
    }
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        fy_log(FY_LOG_WARN, "db", "busy: %s", detail);
        return fy_fail(em, FY_ERR_UNAVAILABLE, "Database busy, retry");
    case SQLITE_NOMEM:
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    default:
        fy_log(FY_LOG_ERROR, "db", "sqlite error %d: %s", rc, detail);
        return fy_fail(em, FY_ERR_INTERNAL, "Internal storage error");
    }
}

fy_err fy_db_exec(struct fy_db *db, const char *sql, struct fy_errmsg *em)
{
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? FY_ERR_OK : fy_db_err(db, rc, em);
}

/* Busy handler: SQLite's own (sqlite3_busy_timeout) sleeps 1, 2, 5, 10... ms between tries,
 * so a writer that meets another process's sub-millisecond transaction waits at least 1 ms and
 * often 3-8 ms. Transactions here are short: retry every FY_DB_BUSY_SPIN_US at first, backing
 * off to FY_DB_BUSY_SLEEP_MAX_US, and give up after about FY_DB_BUSY_TIMEOUT_MS (or the limit
 * set by fy_db_busy_limit: arg is the struct fy_db). */
static int busy_handler(void *arg, int tries)
{
    const struct fy_db *db = arg;
    const long spin = FY_DB_BUSY_SPIN_US, slow = 10 * FY_DB_BUSY_SPIN_US;
    const long n = FY_DB_BUSY_SPIN_TRIES;
    long us, waited; /* this sleep, and the time slept before it */
    (void)arg;
    if (tries < n) {
        us = spin;
        waited = tries * spin;
    } else if (tries < 2 * n) {
        us = slow;
        waited = n * spin + (tries - n) * slow;
    } else {
        us = FY_DB_BUSY_SLEEP_MAX_US;
        waited = n * (spin + slow) + (tries - 2 * n) * us;
    }
    if (waited / 1000 >= (db->busy_limit_ms ? db->busy_limit_ms : FY_DB_BUSY_TIMEOUT_MS)) {
        return 0;
    }
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
    return 1;
}

#define STR_(x) #x
#define STR(x)  STR_(x)
/* page_size before journal_mode: it only applies to a database without tables yet, and not at
 * all once it is in WAL mode */
#define PRAGMA_PAGE_SIZE "PRAGMA page_size=" STR(FY_DB_PAGE_SIZE) ";"
static const char SQL_PRAGMAS[] =
    PRAGMA_PAGE_SIZE "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;";

static fy_err apply_pragmas(struct fy_db *db, struct fy_errmsg *em)
{
    int on = 1;
    sqlite3_busy_handler(db->h, busy_handler, db);
    sqlite3_db_config(db->h, SQLITE_DBCONFIG_DEFENSIVE, 1, &on);
    sqlite3_extended_result_codes(db->h, 1);
    return fy_db_exec(db, SQL_PRAGMAS, em);
}

fy_err fy_db_open(const char *path, struct fy_db **out, struct fy_errmsg *em)
{
    struct fy_db *db = fy_calloc(1, sizeof(*db));
    if (!db) {
        return fy_fail(em, FY_ERR_NOMEM, "Out of memory");
    }
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &db->h, flags, fy_walvfs_name());
    if (rc != SQLITE_OK) {
        fy_err e = fy_fail(em, FY_ERR_INTERNAL, "cannot open database %.200s: %s", path,
                           db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
        fy_db_close(db);
        return e;
    }
    fy_err e = apply_pragmas(db, em);
    if (e) {
        fy_db_close(db);
        return e;
    }
    *out = db;
    return FY_ERR_OK;
}

void fy_db_close(struct fy_db *db)
{
    if (!db) {
        return;
    }
    for (int i = 0; i < FY_DB_STMT_CACHE; i++) {
        sqlite3_finalize(db->cache[i].st);
    }
    sqlite3_close_v2(db->h);
    fy_free(db);
}

sqlite3 *fy_db_handle(struct fy_db *db)
{
    return db->h;
}

void fy_db_busy_limit(struct fy_db *db, long ms)
{
    db->busy_limit_ms = ms;
}

int fy_db_schema_version(void)
{
    int v = 0;
    for (int i = 0; i < fy_migration_count; i++) {
        if (fy_migrations[i].version > v) {
            v = fy_migrations[i].version;
        }
    }
    return v;
}

static int user_version(struct fy_db *db)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) {
            v = sqlite3_column_int(st, 0);
        }
        sqlite3_finalize(st);
    }
    return v;
}

static fy_err apply_migration(struct fy_db *db, const struct fy_migration *m, struct fy_errmsg *em)
{
    char bump[64];
    fy_err e = fy_db_begin(db, em);
    if (e) {
        return e;
    }
    if (user_version(db) >= m->version) { /* another process got there first */
        fy_db_rollback(db);
        return FY_ERR_OK;
    }
    snprintf(bump, sizeof(bump), "PRAGMA user_version=%d", m->version);
    e = fy_db_exec(db, m->sql, em);
    if (!e) {
        e = fy_db_exec(db, bump, em);
    }
    if (!e) {
        e = fy_db_commit(db, em);
    }
    if (e) {
        fy_db_rollback(db);
        fy_log(FY_LOG_ERROR, "db", "migration %s failed: %s", m->name, em ? em->msg : "");
        return e;
    }
    fy_log(FY_LOG_INFO, "db", "applied migration %s", m->name);
    return FY_ERR_OK;
}

fy_err fy_db_migrate(struct fy_db *db, struct fy_errmsg *em)
{
    int have = user_version(db);
    int known = fy_db_schema_version();
    if (have < 0) {
        return fy_fail(em, FY_ERR_INTERNAL, "cannot read the database schema version");
    }
    if (have > known) {
        return fy_fail(em, FY_ERR_INTERNAL,
                       "database schema version %d is newer than this binary (%d); "
                       "refusing to start",
                       have, known);
    }
    for (int i = 0; i < fy_migration_count; i++) {
        if (fy_migrations[i].version > have) {
            fy_err e = apply_migration(db, &fy_migrations[i], em);
            if (e) {
                return e;
            }
        }
    }
    return FY_ERR_OK;
}

static size_t slot_of(const char *sql)
{
    uintptr_t h = (uintptr_t)sql;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15u;
    return (size_t)(h >> 20) % FY_DB_STMT_CACHE;
}

sqlite3_stmt *fy_db_stmt(struct fy_db *db, const char *sql, struct fy_errmsg *em)
{
    size_t start = slot_of(sql);
    for (size_t k = 0; k < FY_DB_STMT_CACHE; k++) {
        struct stmt_slot *s = &db->cache[(start + k) % FY_DB_STMT_CACHE];
        if (s->sql == sql) {
            return s->st;
        }
        if (!s->sql) {
            int rc = sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st, NULL);
            if (rc != SQLITE_OK) {
                fy_log(FY_LOG_ERROR, "db", "prepare failed: %s: %.200s", sqlite3_errmsg(db->h),
                       sql);
                fy_db_err(db, rc, em);
                s->st = NULL;
                return NULL;
            }
            s->sql = sql;
            return s->st;
        }
    }
    fy_log(FY_LOG_ERROR, "db", "statement cache full (%d)", FY_DB_STMT_CACHE);
    fy_errf(em, "Internal storage error");
    return NULL;
}

void fy_stmt_done(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_SAVEPOINT[] = "SAVEPOINT fy_item";
static const char SQL_ROLLBACK_TO[] = "ROLLBACK TO fy_item";
static const char SQL_RELEASE[] = "RELEASE fy_item";

/* Runs a cached no-result statement (transaction control is on every write's path). */
static fy_err exec_cached(struct fy_db *db, const char *sql, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return fy_db_exec(db, sql, em);
    }
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err fy_db_begin(struct fy_db *db, struct fy_errmsg *em)
{
    db->tx_start_ns = fy_mono_ns();
    return exec_cached(db, SQL_BEGIN, em);
}

/* Commits and records the transaction's duration, BEGIN (with its wait for the write lock) to
 * the end of COMMIT, in this process's fy_db_commit_hist. */
fy_err fy_db_commit(struct fy_db *db, struct fy_errmsg *em)
{
    fy_err e = exec_cached(db, SQL_COMMIT, em);
    if (!e) {
        fy_hist_observe(&fy_db_commit_hist, fy_mono_ns() - db->tx_start_ns);
    }
    return e;
}

void fy_db_rollback(struct fy_db *db)
{
    if (!sqlite3_get_autocommit(db->h)) {
        sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    }
}

fy_err fy_db_exec_text(struct fy_db *db, const char *sql, const char *text, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, sql, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, text);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

int fy_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (!s) {
        return sqlite3_bind_null(st, idx);
    }
    return sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
}

const char *fy_col_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}

/* ---- group commit ---- */

static pthread_mutex_t tx_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fy_db_tx *tx_head, *tx_tail;
static bool tx_leader;
static struct fy_db *tx_writer; /* fy_db_writer_set; NULL: the leader's own connection */

void fy_db_writer_set(struct fy_db *db)
{
    pthread_mutex_lock(&tx_lock);
    tx_writer = db;
    pthread_mutex_unlock(&tx_lock);
}

/* The thread's rider (fy_db_rider_set). */
static _Thread_local struct {
    fy_db_tx_fn fn;
    void *arg;
    bool done;
} rider;

void fy_db_rider_set(fy_db_tx_fn fn, void *arg)
{
    rider.fn = fn;
    rider.arg = arg;
    rider.done = false;
}

bool fy_db_rider_done(void)
{
    return rider.done;
}

void fy_db_rider_clear(void)
{
    rider.fn = NULL;
    rider.arg = NULL;
    rider.done = false;
}

/* The rider committed with its change: it runs once only. */
static void rider_committed(void)
{
    rider.fn = NULL;
    rider.done = true;
}

fy_err fy_db_commit_change(struct fy_db *db, struct fy_errmsg *em)
{
    fy_db_tx_fn fn = rider.fn;
    fy_err e = fn ? fn(db, rider.arg, em) : FY_ERR_OK;
    if (!e) {
        e = fy_db_commit(db, em);
    }
    if (!e && fn) {
        rider_committed();
    }
    return e;
}

static fy_err run_unit(struct fy_db *db, struct fy_db_tx *it)
{
    fy_err e = it->fn(db, it->arg, it->em);
    return e || !it->rider ? e : it->rider(db, it->rider_arg, it->em);
}

/* Runs one item inside the open transaction, isolated by a savepoint (a batch of one needs
 * none: its failure rolls the whole transaction back). */
static void run_item(struct fy_db *db, struct fy_db_tx *it, bool alone)
{
    if (alone) {
        it->result = run_unit(db, it);
        return;
    }
    fy_err e = exec_cached(db, SQL_SAVEPOINT, it->em);
    if (!e) {
        e = run_unit(db, it);
        if (e) {
            (void)exec_cached(db, SQL_ROLLBACK_TO, NULL);
        }
        (void)exec_cached(db, SQL_RELEASE, NULL);
    }
    it->result = e;
}

/* Up to max of the queue's waiting units, oldest first (NULL when it is empty). */
static struct fy_db_tx *take_queue(size_t max)
{
    pthread_mutex_lock(&tx_lock);
    struct fy_db_tx *q = tx_head, *last = q;
    for (size_t n = 1; last && n < max && last->next; n++) {
        last = last->next;
    }
    if (last) {
        tx_head = last->next;
        tx_tail = tx_head ? tx_tail : NULL;
        last->next = NULL;
    }
    pthread_mutex_unlock(&tx_lock);
    return q;
}

/* Runs batch in one transaction. With join (the group-commit leader), units queued while the
 * batch ran are appended to it before COMMIT, up to FY_DB_BATCH_MAX units, unless the batch's
 * only unit failed: they share the COMMIT instead of each waiting for one of their own. */
static void run_batch(struct fy_db *db, struct fy_db_tx *batch, bool join)
{
    struct fy_errmsg em;
    fy_err e = fy_db_begin(db, &em);
    size_t n = 0;
    for (struct fy_db_tx *it = batch; it; it = it->next) {
        if (e) {
            it->result = e;
            fy_errf(it->em, "%s", em.msg);
            continue;
        }
        run_item(db, it, batch->next == NULL || (it->atomic && !it->rider));
        n++;
        if (join && !it->next && n < FY_DB_BATCH_MAX && !(it == batch && it->result)) {
            it->next = take_queue(FY_DB_BATCH_MAX - n);
        }
    }
    if (!e && !batch->next && batch->result) {
        fy_db_rollback(db); /* the only item failed: nothing to commit */
        return;
    }
    if (!e) {
        e = fy_db_commit(db, &em);
    }
    if (e) {
        fy_db_rollback(db);
        for (struct fy_db_tx *it = batch; it; it = it->next) {
            if (!it->result) {
                it->result = e;
                fy_errf(it->em, "%s", em.msg);
            }
        }
    }
}

void fy_db_run_txs(struct fy_db *db, struct fy_db_tx *batch)
{
    run_batch(db, batch, false);
}

/* A unit queued by fy_db_run_tx and the condition its thread sleeps on. Each is woken alone:
 * when its batch has committed, or when it is first in the queue as a leader finishes (a
 * broadcast woke every queued thread, and all but one went back to sleep). */
struct waiter {
    struct fy_db_tx it;
    pthread_cond_t wake;
};

static struct waiter *waiter_of(struct fy_db_tx *t)
{
    return (struct waiter *)((char *)t - offsetof(struct waiter, it));
}

/* With tx_lock held: marks batch done and wakes its threads (but self), then the next leader. */
static void finish_batch(struct fy_db_tx *batch, const struct fy_db_tx *self)
{
    for (struct fy_db_tx *b = batch, *next; b; b = next) {
        next = b->next; /* b may return (and vanish) once done is set and tx_lock released */
        b->done = true;
        if (b != self) {
            pthread_cond_signal(&waiter_of(b)->wake);
        }
    }
    tx_leader = false;
    if (tx_head) {
        pthread_cond_signal(&waiter_of(tx_head)->wake);
    }
}

fy_err fy_db_run_tx(struct fy_db *db, fy_db_tx_fn fn, void *arg, struct fy_errmsg *em)
{
    struct waiter w = {{fn, arg, em, FY_ERR_OK, false, NULL, rider.fn, rider.arg, false},
                       PTHREAD_COND_INITIALIZER};
    struct fy_db_tx *it = &w.it;
    pthread_mutex_lock(&tx_lock);
    if (tx_tail) {
        tx_tail->next = it;
    } else {
        tx_head = it;
    }
    tx_tail = it;
    while (!it->done) {
        if (tx_leader) {
            pthread_cond_wait(&w.wake, &tx_lock);
            continue;
        }
        struct fy_db_tx *batch = tx_head;
        struct fy_db *wr = tx_writer && sqlite3_get_autocommit(db->h) ? tx_writer : db;
        tx_leader = true;
        tx_head = tx_tail = NULL;
        pthread_mutex_unlock(&tx_lock);
        run_batch(wr, batch, true);
        pthread_mutex_lock(&tx_lock);
        finish_batch(batch, it);
    }
    pthread_mutex_unlock(&tx_lock);
    pthread_cond_destroy(&w.wake);
    if (it->rider && !it->result) {
        rider_committed();
    }
    return it->result;
}
