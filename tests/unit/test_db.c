/* SQLite layer: pragmas, migrations by user_version (from every older version; a failing
 * migration leaves the database as it was), refusing a newer database, statement cache,
 * constraint mapping. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/db.h"
#include "core/fytime.h"
#include "core/log.h"
#include "core/stats.h"
#include "core/ticker.h"
#include "core/walvfs.h"
#include "tests/unit/tap.h"
#include "tests/unit/tempdb.h"

static const char SQL_INS[] = "INSERT INTO settings(key, value) VALUES (?, 'v')";

/* ---- group commit: concurrent writers, failing items rolled back alone ---- */

#define GC_THREADS 4
#define GC_ITEMS   300

struct gc_arg {
    const char *path;
    int id;
    int ok, dup;
};

static fy_err insert_key(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    sqlite3_stmt *st = fy_db_stmt(db, SQL_INS, em);
    if (!st) {
        return FY_ERR_INTERNAL;
    }
    fy_bind_text(st, 1, arg);
    int rc = sqlite3_step(st);
    fy_stmt_done(st);
    return rc == SQLITE_DONE ? FY_ERR_OK : fy_db_err(db, rc, em);
}

static void *gc_writer(void *p)
{
    struct gc_arg *a = p;
    struct fy_db *db;
    struct fy_errmsg em;
    char key[64];
    if (fy_db_open(a->path, &db, &em) != FY_ERR_OK) {
        return NULL;
    }
    for (int i = 0; i < GC_ITEMS; i++) {
        /* every 10th key is shared by all threads: only one insert of it may succeed */
        if (i % 10 == 0) {
            snprintf(key, sizeof(key), "shared-%d", i);
        } else {
            snprintf(key, sizeof(key), "t%d-%d", a->id, i);
        }
        fy_err e = fy_db_run_tx(db, insert_key, key, &em);
        a->ok += e == FY_ERR_OK;
        a->dup += e == FY_ERR_ALREADY_EXISTS;
    }
    fy_db_close(db);
    return NULL;
}

static void test_group_commit(struct fy_db *db, const char *path)
{
    pthread_t th[GC_THREADS];
    struct gc_arg args[GC_THREADS];
    int ok_sum = 0, dup_sum = 0;
    fy_err e = fy_db_exec(db, "DELETE FROM settings", NULL);
    for (int i = 0; i < GC_THREADS; i++) {
        args[i] = (struct gc_arg){path, i, 0, 0};
        pthread_create(&th[i], NULL, gc_writer, &args[i]);
    }
    for (int i = 0; i < GC_THREADS; i++) {
        pthread_join(th[i], NULL);
        ok_sum += args[i].ok;
        dup_sum += args[i].dup;
    }
    int unique = GC_THREADS * (GC_ITEMS - GC_ITEMS / 10) + GC_ITEMS / 10;
    ok(e == FY_ERR_OK && ok_sum == unique, "group commit: %d inserts committed (want %d)", ok_sum,
       unique);
    ok(dup_sum == GC_THREADS * GC_ITEMS - unique, "group commit: %d duplicates refused alone",
       dup_sum);
    ok(tdb_int(db, "SELECT count(*) FROM settings") == unique, "group commit: rows match");
}

/* The rider joins the thread's next transaction: committed with it, once; failing with it. */
/* ---- late joiners: units queued while the leader's batch runs share its COMMIT ---- */

struct join_arg {
    const char *path;
    const char *key;
    atomic_bool started; /* the leader's unit is running */
    fy_err result;
};

/* The leader's unit: inserts its key, then lets the joiner queue behind it. */
static fy_err slow_insert(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    struct join_arg *a = arg;
    fy_err e = insert_key(db, (void *)a->key, em);
    atomic_store(&a->started, true);
    usleep(100 * 1000);
    return e;
}

static void *joiner(void *p)
{
    struct join_arg *a = p;
    struct fy_db *db;
    struct fy_errmsg em;
    while (!atomic_load(&a->started)) {
        usleep(1000);
    }
    a->result = fy_db_open(a->path, &db, &em);
    if (a->result == FY_ERR_OK) {
        a->result = fy_db_run_tx(db, insert_key, (void *)"joiner-key", &em);
        fy_db_close(db);
    }
    return NULL;
}

static uint64_t commits(void)
{
    struct fy_hist_snap s;
    fy_hist_snapshot(&fy_db_commit_hist, &s);
    return s.cum[FY_HIST_BUCKETS];
}

/* Runs the leader's unit (inserting leader_key) with a joiner (inserting "joiner-key") queued
 * meanwhile; returns both results and the number of COMMITs they took. */
static uint64_t
join_case(struct fy_db *db, const char *path, const char *leader_key, fy_err *lr, fy_err *jr)
{
    struct join_arg a = {path, leader_key, false, FY_ERR_INTERNAL};
    struct fy_errmsg em;
    pthread_t th;
    uint64_t before = commits();
    pthread_create(&th, NULL, joiner, &a);
    *lr = fy_db_run_tx(db, slow_insert, &a, &em);
    pthread_join(th, NULL);
    *jr = a.result;
    return commits() - before;
}

static void test_late_join(struct fy_db *db, const char *path)
{
    fy_err lr, jr;
    fy_err e = fy_db_exec(db, "DELETE FROM settings", NULL);
    uint64_t n = join_case(db, path, "leader-key", &lr, &jr);
    ok(e == FY_ERR_OK && lr == FY_ERR_OK && jr == FY_ERR_OK && n == 1 &&
           tdb_int(db, "SELECT count(*) FROM settings WHERE key IN ('leader-key','joiner-key')") ==
               2,
       "late join: a unit queued meanwhile commits with the leader's (%llu commit)",
       (unsigned long long)n);
    e = fy_db_exec(db, "DELETE FROM settings WHERE key = 'joiner-key'", NULL);
    n = join_case(db, path, "leader-key", &lr, &jr);
    ok(e == FY_ERR_OK && lr == FY_ERR_ALREADY_EXISTS && jr == FY_ERR_OK && n == 1 &&
           tdb_int(db, "SELECT count(*) FROM settings WHERE key = 'joiner-key'") == 1,
       "late join: none behind a leader whose only unit failed; the joiner commits alone");
    n = join_case(db, path, "leader-2", &lr, &jr);
    ok(lr == FY_ERR_OK && jr == FY_ERR_ALREADY_EXISTS && n == 1 &&
           tdb_int(db, "SELECT count(*) FROM settings WHERE key = 'leader-2'") == 1,
       "late join: a joiner that fails is rolled back alone; the leader's unit commits");
}

static void test_rider(struct fy_db *db)
{
    struct fy_errmsg em;
    fy_db_rider_set(insert_key, "rider-1");
    ok(fy_db_run_tx(db, insert_key, "work-1", &em) == FY_ERR_OK && fy_db_rider_done() &&
           tdb_int(db, "SELECT count(*) FROM settings WHERE key IN ('work-1','rider-1')") == 2,
       "rider: committed with the work");
    ok(fy_db_run_tx(db, insert_key, "work-2", &em) == FY_ERR_OK && fy_db_rider_done() &&
           tdb_int(db, "SELECT count(*) FROM settings WHERE key = 'work-2'") == 1,
       "rider: runs once (a second transaction goes alone)");
    fy_db_rider_clear();
    fy_db_rider_set(insert_key, "rider-1"); /* exists: the rider fails */
    ok(fy_db_run_tx(db, insert_key, "work-3", &em) == FY_ERR_ALREADY_EXISTS &&
           !fy_db_rider_done() &&
           tdb_int(db, "SELECT count(*) FROM settings WHERE key = 'work-3'") == 0,
       "rider: its failure rolls the work back");
    ok(fy_db_run_tx(db, insert_key, "work-1", &em) == FY_ERR_ALREADY_EXISTS &&
           !fy_db_rider_done() &&
           tdb_int(db, "SELECT count(*) FROM settings WHERE key LIKE 'rider-%'") == 1,
       "rider: a failed work leaves it unwritten");
    fy_db_rider_clear();
}

static fy_err change_tx(struct fy_db *db, const char *key, struct fy_errmsg *em)
{
    FY_DB_RETURN_IN_CHANGE_TX(db, em, insert_key(db, (void *)key, em));
}

/* FY_DB_RETURN_IN_CHANGE_TX hands the rider the change's own transaction: the same rules. */
static void test_rider_change_tx(struct fy_db *db)
{
    struct fy_errmsg em;
    fy_db_rider_set(insert_key, "crider-1");
    ok(change_tx(db, "cwork-1", &em) == FY_ERR_OK && fy_db_rider_done() &&
           tdb_int(db, "SELECT count(*) FROM settings WHERE key IN ('cwork-1','crider-1')") == 2,
       "change tx: rider committed with the work");
    ok(change_tx(db, "cwork-2", &em) == FY_ERR_OK && fy_db_rider_done() &&
           fy_db_run_tx(db, insert_key, "cwork-3", &em) == FY_ERR_OK,
       "change tx: rider runs once (later transactions go alone)");
    fy_db_rider_clear();
    fy_db_rider_set(insert_key, "crider-1"); /* exists: the rider fails */
    ok(change_tx(db, "cwork-4", &em) == FY_ERR_ALREADY_EXISTS && !fy_db_rider_done() &&
           tdb_int(db, "SELECT count(*) FROM settings WHERE key = 'cwork-4'") == 0,
       "change tx: the rider's failure rolls the work back");
    fy_db_rider_clear();
    fy_db_rider_set(insert_key, "crider-2");
    ok(change_tx(db, "cwork-1", &em) == FY_ERR_ALREADY_EXISTS && !fy_db_rider_done() &&
           tdb_int(db, "SELECT count(*) FROM settings WHERE key = 'crider-2'") == 0,
       "change tx: a failed work leaves the rider unwritten");
    ok(change_tx(db, "cwork-5", &em) == FY_ERR_OK && fy_db_rider_done() &&
           tdb_int(db, "SELECT count(*) FROM settings WHERE key = 'crider-2'") == 1,
       "change tx: the rider still rides the next change, once");
    fy_db_rider_clear();
}

static fy_err note_db(struct fy_db *db, void *arg, struct fy_errmsg *em)
{
    *(struct fy_db **)arg = db;
    return insert_key(db, "writer-probe", em);
}

/* With a writer set, every batch commits on it, whichever connection queued the work; a
 * caller already inside a transaction keeps its own connection (and gets its error). */
static void test_writer(struct fy_db *db, const char *path)
{
    struct fy_db *w = NULL, *ran = NULL;
    struct fy_errmsg em;
    ok(fy_db_open(path, &w, &em) == FY_ERR_OK, "writer: open");
    fy_db_writer_set(w);
    ok(fy_db_run_tx(db, note_db, &ran, &em) == FY_ERR_OK && ran == w &&
           tdb_int(db, "SELECT count(*) FROM settings WHERE key = 'writer-probe'") == 1,
       "writer: the work ran and committed on the writer");
    ran = NULL;
    ok(fy_db_begin(db, &em) == FY_ERR_OK, "writer: caller opens a transaction");
    ok(fy_db_run_tx(db, note_db, &ran, &em) != FY_ERR_OK && ran == NULL,
       "writer: not used under the caller's open transaction (BEGIN refused on the caller's)");
    fy_db_rollback(db);
    fy_db_writer_set(NULL);
    ok(fy_db_run_tx(db, insert_key, "writer-gone", &em) == FY_ERR_OK,
       "writer: cleared, the leader's own connection again");
    test_group_commit(db, path); /* concurrent callers, writer unset */
    fy_db_writer_set(w);
    test_group_commit(db, path); /* and through one writer */
    fy_db_writer_set(NULL);
    fy_db_close(w);
}

static long file_size(const char *path, const char *suffix)
{
    char name[96];
    struct stat st;
    snprintf(name, sizeof(name), "%s%s", path, suffix);
    return stat(name, &st) == 0 ? (long)st.st_size : -1;
}

/* With autocheckpoint off the WAL only grows; the checkpointer copies it into the database
 * file and, past FY_DB_WAL_RESTART_FRAMES, truncates it. */
static void test_checkpointer(struct fy_db *db, const char *path)
{
    struct fy_errmsg em;
    struct fy_db_checkpointer *c = NULL;
    int n = FY_DB_WAL_RESTART_FRAMES + 500; /* one transaction, so one frame at least, each */
    fy_db_autocheckpoint_off(db);
    fy_err e = FY_ERR_OK;
    for (int i = 0; i < n && !e; i++) {
        char sql[96];
        snprintf(sql, sizeof(sql), "INSERT INTO settings(key, value) VALUES('ck%d', 'v')", i);
        e = fy_db_exec(db, sql, &em);
    }
    long db_before = file_size(path, "");
    ok(!e && file_size(path, "-wal") > (long)n * FY_DB_PAGE_SIZE,
       "without checkpoints the WAL grows (%ld)", file_size(path, "-wal"));
    ok(fy_db_checkpointer_start(path, &c, &em) == FY_ERR_OK, "checkpointer starts");
    usleep(5 * FY_DB_CKPT_INTERVAL_MS * 1000);
    fy_db_checkpointer_stop(c);
    ok(file_size(path, "") > db_before, "pages copied into the database file (%ld -> %ld)",
       db_before, file_size(path, ""));
    ok(file_size(path, "-wal") == 0, "a WAL past the limit is truncated (%ld)",
       file_size(path, "-wal"));
    ok(tdb_int(db, "SELECT count(*) FROM settings WHERE key LIKE 'ck%'") == n, "data intact");
}

static atomic_int ticks;
static void count_tick(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ticks, 1);
}

/* A kicked ticker runs at once instead of at the end of its interval, and still stops. */
static void test_ticker_kick(void)
{
    struct fy_errmsg em;
    struct fy_ticker *t = NULL;
    ok(fy_ticker_start(60000, false, count_tick, NULL, &t, &em) == FY_ERR_OK, "ticker starts");
    for (int i = 0; i < 50 && atomic_load(&ticks) == 0; i++) {
        if (i == 5) {
            fy_ticker_kick(t);
        }
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    int n = atomic_load(&ticks);
    fy_ticker_stop(t);
    ok(n == 1, "kicked: ran once long before its 60 s interval (%d)", n);
}

/* Under steady writes a PASSIVE pass never catches up, so the WAL would grow until it is
 * truncated at FY_DB_WAL_RESTART_FRAMES; past FY_DB_WAL_REUSE_FRAMES the checkpointer restarts
 * it instead, woken by the commit that got there. Waiting for its interval instead, this tight
 * writer had appended some 10,000 frames more (WAL files of 21-28 MB with three busy loops
 * beside it; 10-14 MB when woken): the WAL must stay under halfway from the one to the other. */
#define REUSE_MOST_FRAMES ((FY_DB_WAL_REUSE_FRAMES + FY_DB_WAL_RESTART_FRAMES) / 2)
static void test_checkpointer_reuse(struct fy_db *db, const char *path)
{
    struct fy_errmsg em;
    struct fy_db_checkpointer *c = NULL;
    const int n = 3 * FY_DB_WAL_RESTART_FRAMES;
    long most = 0;
    fy_err e = FY_ERR_OK;
    fy_db_autocheckpoint_off(db);
    ok(fy_db_checkpointer_start(path, &c, &em) == FY_ERR_OK, "reuse: checkpointer starts");
    for (int i = 0; i < n && !e; i++) {
        char sql[96];
        snprintf(sql, sizeof(sql), "INSERT INTO settings(key, value) VALUES('ru%d', 'v')", i);
        e = fy_db_exec(db, sql, &em);
        long size = i % 100 == 0 ? file_size(path, "-wal") : 0;
        most = size > most ? size : most;
    }
    fy_db_checkpointer_stop(c);
    ok(!e && most > 0 && most < (long)REUSE_MOST_FRAMES * FY_DB_PAGE_SIZE,
       "reuse: %d commits in a row, the WAL stayed under %d frames (%ld bytes)", n,
       REUSE_MOST_FRAMES, most);
    ok(tdb_int(db, "SELECT count(*) FROM settings WHERE key LIKE 'ru%'") == n,
       "reuse: data intact");
}

/* A reader on an old snapshot (a long listing, a backup) keeps the WAL from restarting; the
 * checkpointer's RESTART must not hold writers off for long meanwhile. */
static void test_checkpointer_reader(struct fy_db *db, const char *path)
{
    struct fy_errmsg em;
    struct fy_db_checkpointer *c = NULL;
    struct fy_db *r = NULL;
    uint64_t worst = 0;
    fy_err e = fy_db_open(path, &r, &em);
    e = e ? e : fy_db_exec(r, "BEGIN; SELECT count(*) FROM settings;", &em);
    e = e ? e : fy_db_checkpointer_start(path, &c, &em);
    for (int i = 0; i < 2 * FY_DB_WAL_REUSE_FRAMES && !e; i++) {
        char sql[96];
        snprintf(sql, sizeof(sql), "INSERT INTO settings(key, value) VALUES('rd%d', 'v')", i);
        uint64_t t0 = fy_mono_ns();
        e = fy_db_exec(db, sql, &em);
        worst = fy_mono_ns() - t0 > worst ? fy_mono_ns() - t0 : worst;
    }
    fy_db_checkpointer_stop(c);
    fy_db_rollback(r);
    fy_db_close(r);
    ok(!e && worst < 1000000000ull,
       "reader: writes go on under an old snapshot, the slowest commit took %.1f ms",
       (double)worst / 1e6);
}

/* Rows of settings with key LIKE pattern, read through a plain connection (SQLite's default
 * VFS): it sees only what reached the files. */
static int plain_count(const char *path, const char *pattern)
{
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    int n = -1;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(h, "SELECT count(*) FROM settings WHERE key LIKE ?", -1, &st, NULL) ==
            SQLITE_OK) {
        sqlite3_bind_text(st, 1, pattern, -1, SQLITE_STATIC);
        n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

static bool integrity_ok(struct fy_db *db)
{
    sqlite3_stmt *st = NULL;
    bool good = sqlite3_prepare_v2(fy_db_handle(db), "PRAGMA integrity_check", -1, &st, NULL) ==
                    SQLITE_OK &&
                sqlite3_step(st) == SQLITE_ROW &&
                strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    sqlite3_finalize(st);
    return good;
}

/* core/walvfs.c gathers a transaction's WAL appends: a commit is in the file when it returns,
 * a transaction larger than the gathering buffer (and than the page cache: SQLite spills
 * frames before the commit) commits whole, and one rolled back leaves nothing visible. */
static void test_walvfs(struct fy_db *db, const char *path)
{
    struct fy_errmsg em;
    char sql[160];
    ok(fy_walvfs_name() != NULL, "walvfs: registered");
    ok(fy_db_exec(db, "INSERT INTO settings(key, value) VALUES('wv-1', 'v')", &em) == FY_ERR_OK &&
           plain_count(path, "wv-%") == 1,
       "walvfs: a commit is in the WAL file when it returns");
    fy_err e = fy_db_begin(db, &em);
    for (int i = 0; i < 6000 && !e; i++) { /* ~3 MB: 30x the buffer, past the page cache */
        snprintf(sql, sizeof(sql),
                 "INSERT INTO settings(key, value) VALUES('wb-%d', printf('%%.500c', 'x'))", i);
        e = fy_db_exec(db, sql, &em);
    }
    e = e ? e : fy_db_commit(db, &em);
    ok(!e && plain_count(path, "wb-%") == 6000, "walvfs: a 3 MB transaction commits whole");
    e = fy_db_begin(db, &em);
    for (int i = 0; i < 6000 && !e; i++) {
        snprintf(sql, sizeof(sql),
                 "INSERT INTO settings(key, value) VALUES('wr-%d', printf('%%.500c', 'y'))", i);
        e = fy_db_exec(db, sql, &em);
    }
    fy_db_rollback(db);
    ok(!e && plain_count(path, "wr-%") == 0 &&
           tdb_int(db, "SELECT count(*) FROM settings WHERE "
                       "key LIKE 'wr-%'") == 0,
       "walvfs: a spilled transaction rolled back leaves nothing");
    ok(fy_db_exec(db, "INSERT INTO settings(key, value) VALUES('wv-2', 'v')", &em) == FY_ERR_OK &&
           plain_count(path, "wv-%") == 2 && integrity_ok(db),
       "walvfs: and the next commit is seen");
}

/* ---- upgrades (README "Upgrading") ---- */

static void remove_db(const char *path)
{
    char p[128];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

/* A database as a binary that knew migrations 1..k left it, with one row written at k. */
static struct fy_db *db_at(const char *path, int k)
{
    struct fy_db *db;
    struct fy_errmsg em;
    char bump[64];
    remove_db(path);
    if (fy_db_open(path, &db, &em) != FY_ERR_OK) {
        return NULL;
    }
    for (int i = 0; i < fy_migration_count && fy_migrations[i].version <= k; i++) {
        if (fy_db_exec(db, fy_migrations[i].sql, &em) != FY_ERR_OK) {
            fy_db_close(db);
            return NULL;
        }
    }
    snprintf(bump, sizeof(bump), "PRAGMA user_version=%d", k);
    if (fy_db_exec(db, bump, &em) != FY_ERR_OK ||
        fy_db_exec(db,
                   "INSERT INTO things(name, thing_id, creation_date, modified_date) "
                   "VALUES ('old-thing', 'id-1', 1, 1)",
                   &em) != FY_ERR_OK) {
        fy_db_close(db);
        return NULL;
    }
    return db;
}

static void test_from_each_version(const char *path)
{
    struct fy_errmsg em;
    int latest = fy_db_schema_version();
    for (int k = 1; k < latest; k++) {
        struct fy_db *db = db_at(path, k);
        fy_err e = db ? fy_db_migrate(db, &em) : FY_ERR_INTERNAL;
        ok(!e && tdb_int(db, "PRAGMA user_version") == latest &&
               tdb_int(db, "SELECT count(*) FROM things WHERE name = 'old-thing'") == 1,
           "from version %d to %d, data kept", k, latest);
        fy_db_close(db);
    }
}

/* Migration 1 creates thing_types; a table of that name already there makes it fail. */
static void test_failed_migration_rolls_back(const char *path)
{
    struct fy_db *db;
    struct fy_errmsg em;
    remove_db(path);
    if (!ok(fy_db_open(path, &db, &em) == FY_ERR_OK, "open")) {
        return;
    }
    fy_err e =
        fy_db_exec(db, "CREATE TABLE thing_types(x); INSERT INTO thing_types VALUES (7)", &em);
    ok(!e, "a conflicting table");
    ok(fy_db_migrate(db, &em) == FY_ERR_INTERNAL, "the failing migration is reported");
    ok(tdb_int(db, "PRAGMA user_version") == 0, "user_version unchanged");
    ok(tdb_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'things'") == 0,
       "nothing of the failed migration remains");
    ok(tdb_int(db, "SELECT x FROM thing_types") == 7, "the existing table is untouched");
    ok(sqlite3_get_autocommit(fy_db_handle(db)) == 1, "no transaction left open");
    fy_db_close(db);
}

/* A new database gets FY_DB_PAGE_SIZE; one made with another page size keeps it (SQLite cannot
 * change it in WAL mode) and migrates as usual. */
static void test_existing_page_size(void)
{
    char path[] = "/tmp/fy-test-db-pages-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    sqlite3 *raw;
    int made = sqlite3_open(path, &raw) == SQLITE_OK &&
               sqlite3_exec(raw, "PRAGMA page_size=4096; CREATE TABLE t(x);", 0, 0, 0) == SQLITE_OK;
    sqlite3_close(raw);
    struct fy_db *db = NULL;
    struct fy_errmsg em = {""};
    ok(made && fy_db_open(path, &db, &em) == FY_ERR_OK && fy_db_migrate(db, &em) == FY_ERR_OK,
       "a 4 KB database opens and migrates: %s", em.msg);
    ok(db && tdb_int(db, "PRAGMA page_size") == 4096 &&
           tdb_int(db, "PRAGMA user_version") == fy_db_schema_version(),
       "it keeps its page size");
    fy_db_close(db);
    unlink(path);
}

int main(void)
{
    char path[] = "/tmp/fy-test-db-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    struct fy_db *db;
    struct fy_errmsg em;
    ok(fy_db_open(path, &db, &em) == FY_ERR_OK, "open");
    ok(tdb_int(db, "PRAGMA foreign_keys") == 1, "foreign keys on");
    ok(tdb_int(db, "PRAGMA page_size") == FY_DB_PAGE_SIZE, "new database: %d-byte pages",
       FY_DB_PAGE_SIZE);
    ok(tdb_int(db, "PRAGMA user_version") == 0, "fresh database at version 0");
    ok(fy_db_migrate(db, &em) == FY_ERR_OK, "migrate");
    ok(tdb_int(db, "PRAGMA user_version") == fy_db_schema_version(), "at the binary's version");
    ok(fy_db_migrate(db, &em) == FY_ERR_OK, "migrating again is a no-op");
    ok(tdb_int(db, "SELECT count(*) FROM sqlite_schema WHERE name='things'") == 1,
       "things table exists");

    sqlite3_stmt *a = fy_db_stmt(db, SQL_INS, &em);
    sqlite3_stmt *b = fy_db_stmt(db, SQL_INS, &em);
    ok(a && a == b, "statement cached by SQL text");
    fy_bind_text(a, 1, "k1");
    ok(sqlite3_step(a) == SQLITE_DONE, "insert");
    fy_stmt_done(a);
    fy_bind_text(a, 1, "k1");
    int rc = sqlite3_step(a);
    ok(fy_db_err(db, rc, &em) == FY_ERR_ALREADY_EXISTS, "unique violation -> ALREADY_EXISTS");
    fy_stmt_done(a);

    ok(fy_db_begin(db, &em) == FY_ERR_OK, "BEGIN IMMEDIATE");
    fy_db_rollback(db);
    ok(sqlite3_get_autocommit(fy_db_handle(db)) == 1, "rolled back");

    test_group_commit(db, path);
    test_late_join(db, path);
    test_rider(db);
    test_rider_change_tx(db);
    test_ticker_kick();
    test_writer(db, path);
    test_walvfs(db, path);
    test_checkpointer(db, path);
    test_checkpointer_reuse(db, path);
    test_checkpointer_reader(db, path);

    char bump[64];
    snprintf(bump, sizeof(bump), "PRAGMA user_version=%d", fy_db_schema_version() + 1);
    ok(fy_db_exec(db, bump, &em) == FY_ERR_OK, "simulate a newer database");
    ok(fy_db_migrate(db, &em) == FY_ERR_INTERNAL && strstr(em.msg, "newer") != NULL,
       "newer database refused: %s", em.msg);
    fy_db_close(db);

    fy_log_threshold = FY_LOG_ERROR; /* quiet, but for the expected failure below */
    int ordered = 1;
    for (int i = 1; i < fy_migration_count; i++) {
        ordered &= fy_migrations[i].version > fy_migrations[i - 1].version;
    }
    ok(ordered && fy_migrations[fy_migration_count - 1].version == fy_db_schema_version(),
       "migrations in increasing order up to %d", fy_db_schema_version());
    test_from_each_version(path);
    test_existing_page_size();
    test_failed_migration_rolls_back(path);
    remove_db(path);
    return done();
}
