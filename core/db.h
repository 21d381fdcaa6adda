/* fleetyard core: the SQLite layer.
 *
 * A struct fy_db is one connection; it belongs to one thread at a time. Opening applies the
 * house pragmas (WAL, synchronous=NORMAL, foreign_keys=ON, busy timeout, defensive mode).
 * fy_db_migrate() brings the schema to the embedded migrations (schema/NNNN_name.sql, by
 * PRAGMA user_version) and refuses a database newer than the binary.
 *
 * Statements: fy_db_stmt(db, SQL) prepares SQL once per connection (SQLITE_PREPARE_PERSISTENT)
 * and caches it by the address of the SQL text, so SQL must be a string with static storage
 * (module-level `static const char SQL_X[] = "..."`). Every use ends in fy_stmt_done().
 * Dynamic SQL (index/ query compiler) uses fy_db_prepare_new() and sqlite3_finalize.
 *
 * Transactions: fy_db_begin() is BEGIN IMMEDIATE; keep them short; never hold one across a
 * callback or a publish.
 */
#ifndef FY_CORE_DB_H
#define FY_CORE_DB_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "core/err.h"

#define FY_DB_BUSY_TIMEOUT_MS   5000
#define FY_DB_BUSY_SPIN_US      50 /* first retries when another connection holds the lock */
#define FY_DB_BUSY_SPIN_TRIES   20 /* then 10x that for as many tries, then the maximum */
#define FY_DB_BUSY_SLEEP_MAX_US 2000
#define FY_DB_STMT_CACHE        512
#define FY_DB_BATCH_MAX         64 /* units in one group commit, late joiners included */
/* Page size of a database this binary creates (an existing one keeps its own). A commit writes
 * every page it changed to the WAL, checksummed and copied: a CreateThing changes about ten
 * pages (row, name indexes, attribute, audit record and its indexes), 40 KB with SQLite's
 * default 4 KB, 20 KB with 2 KB pages. Measured with bench_http: about 10% less server CPU per
 * CreateThing, DescribeThing unchanged; 1 KB saved no more and moves more keys and rows to
 * overflow pages. */
#define FY_DB_PAGE_SIZE 2048

struct fy_db;

struct fy_migration {
    int version;
    const char *name;
    const char *sql;
};
extern const struct fy_migration fy_migrations[];
extern const int fy_migration_count;

/* Opens (creating) the database at path. *out is owned by the caller (fy_db_close). */
FY_NODISCARD fy_err fy_db_open(const char *path, struct fy_db **out, struct fy_errmsg *em);

/* Closes the connection and its statement cache. Accepts NULL. */
void fy_db_close(struct fy_db *db);

/* Applies pending migrations, each in its own BEGIN IMMEDIATE. FY_ERR_INTERNAL with a message
 * when the database is newer than this binary. */
FY_NODISCARD fy_err fy_db_migrate(struct fy_db *db, struct fy_errmsg *em);

/* Schema version the binary knows (highest embedded migration). */
int fy_db_schema_version(void);

/* How long a statement of db waits for a lock held by another connection before it fails
 * busy; 0 restores FY_DB_BUSY_TIMEOUT_MS. */
void fy_db_busy_limit(struct fy_db *db, long ms);

/* The raw handle (borrowed). */
sqlite3 *fy_db_handle(struct fy_db *db);

/* Cached prepared statement for static SQL text (borrowed); NULL on prepare failure (the
 * error is logged and put in em). */
sqlite3_stmt *fy_db_stmt(struct fy_db *db, const char *sql, struct fy_errmsg *em);

/* Resets and clears bindings. Accepts NULL. */
void fy_stmt_done(sqlite3_stmt *st);

FY_NODISCARD fy_err fy_db_begin(struct fy_db *db, struct fy_errmsg *em);
FY_NODISCARD fy_err fy_db_commit(struct fy_db *db, struct fy_errmsg *em);
/* Rolls back if a transaction is open; harmless otherwise. */
void fy_db_rollback(struct fy_db *db);

/* Runs the thread's rider (fy_db_rider_set), if any, in the open transaction, then commits;
 * the rider counts as done (fy_db_rider_done) only once the commit succeeded. */
FY_NODISCARD fy_err fy_db_commit_change(struct fy_db *db, struct fy_errmsg *em);

/* Evaluates `call` (an fy_err expression) between fy_db_begin and `commit`, rolls back when
 * it or the commit fails, and returns the result from the enclosing function. */
#define FY_DB_RETURN_IN_TX_WITH(db, em, call, commit) \
    do {                                              \
        fy_err fy_tx_e_ = fy_db_begin((db), (em));    \
        if (!fy_tx_e_) {                              \
            fy_tx_e_ = (call);                        \
        }                                             \
        if (!fy_tx_e_) {                              \
            fy_tx_e_ = commit((db), (em));            \
        }                                             \
        if (fy_tx_e_) {                               \
            fy_db_rollback(db);                       \
        }                                             \
        return fy_tx_e_;                              \
    } while (0)

/* A transaction that is not (or not surely) the change of an HTTP request: a preparatory one,
 * or one of several a request makes. The request's audit record is written apart. */
#define FY_DB_RETURN_IN_TX(db, em, call) FY_DB_RETURN_IN_TX_WITH(db, em, call, fy_db_commit)

/* The change itself: the one transaction the request's success depends on, with no later
 * step that can fail the request after it committed, except writing the reply. The thread's
 * rider (the audit record) runs in it before COMMIT and commits with it (fy_db_commit_change).
 * Rule: use it only where the request opens no other write transaction that could commit or
 * fail after it; else FY_DB_RETURN_IN_TX (or fy_db_run_tx, which takes the rider itself). */
#define FY_DB_RETURN_IN_CHANGE_TX(db, em, call) \
    FY_DB_RETURN_IN_TX_WITH(db, em, call, fy_db_commit_change)

/* Work done inside one write transaction: (db, arg, em). It runs on whichever connection
 * commits the batch (see fy_db_run_tx), so it must use the db it is given. */
typedef fy_err (*fy_db_tx_fn)(struct fy_db *db, void *arg, struct fy_errmsg *em);

/* Runs fn in a write transaction with group commit: concurrent callers of this process queue;
 * one of them (the leader) opens BEGIN IMMEDIATE on its own connection, runs each queued fn in
 * its own SAVEPOINT (an fn that fails is rolled back alone and gets its own error), and commits
 * once for the whole batch. Units queued while the batch runs join it before its COMMIT (up to
 * FY_DB_BATCH_MAX units; none join behind a batch of one unit that failed). Returns when the
 * caller's work is committed (or failed). fn must not call fy_db_run_tx itself. */
FY_NODISCARD fy_err fy_db_run_tx(struct fy_db *db, fy_db_tx_fn fn, void *arg, struct fy_errmsg *em);

/* Makes db the connection every fy_db_run_tx batch of this process commits on (NULL: each
 * leader's own connection, the default). One connection for all of them keeps its page cache:
 * SQLite empties a connection's cache whenever another connection has committed since its last
 * transaction, so batches that moved between pooled connections read every page again. Set it
 * before the first fy_db_run_tx and clear it after the last; the caller keeps ownership. */
void fy_db_writer_set(struct fy_db *db);

/* One unit of work of fy_db_run_txs; result is set when it returns. */
struct fy_db_tx {
    fy_db_tx_fn fn;
    void *arg;
    struct fy_errmsg *em;
    fy_err result;
    bool done; /* for fy_db_run_tx's queue */
    struct fy_db_tx *next;
    fy_db_tx_fn rider; /* run after fn succeeded, in the same savepoint (fy_db_rider_set) */
    void *rider_arg;
    bool atomic; /* fn leaves nothing behind when it fails (its only write is one statement,
                    the last thing it does): fy_db_run_txs needs no savepoint for it */
};

/* Runs every unit of the list (linked by next) in one BEGIN IMMEDIATE ... COMMIT on db, in
 * order, each in its own SAVEPOINT (a unit that fails is rolled back alone and gets its own
 * error; a failed BEGIN or COMMIT fails every unit). For one thread with several units at hand
 * (the broker's loop pass); a list of one needs no savepoint. */
void fy_db_run_txs(struct fy_db *db, struct fy_db_tx *list);

/* A thread's rider: work that joins the next fy_db_run_tx of the calling thread (the audit
 * record of an HTTP request joins the transaction of the change it records, so the two commit
 * together or not at all). fn(arg) runs right after that call's work succeeded, inside the
 * same savepoint; its failure fails the work. It runs in one committed transaction at most:
 * fy_db_rider_done() is true once it has; fy_db_rider_clear() detaches it (and resets done). */
void fy_db_rider_set(fy_db_tx_fn fn, void *arg);
bool fy_db_rider_done(void);
void fy_db_rider_clear(void);

/* Runs the cached statement sql with ?1 bound to text (NULL binds NULL) for one step: its end,
 * or its first row (ignored). */
FY_NODISCARD fy_err fy_db_exec_text(struct fy_db *db,
                                    const char *sql,
                                    const char *text,
                                    struct fy_errmsg *em);

/* Executes SQL with no results (for DDL, pragmas, maintenance). */
FY_NODISCARD fy_err fy_db_exec(struct fy_db *db, const char *sql, struct fy_errmsg *em);

/* ---- background checkpoints (checkpoint.c) ----
 *
 * By default every connection checkpoints the WAL itself after a commit that grows it past
 * 1000 pages, so one request in a few hundred pays for copying pages and an fsync. A server
 * runs one checkpointer thread instead and turns that off on its connections
 * (fy_db_autocheckpoint_off): every FY_DB_CKPT_INTERVAL_MS it backfills the WAL without
 * waiting for anyone (PASSIVE). Under steady writes a PASSIVE pass never catches up with the
 * last frame, so the WAL would only grow (every frame appended to new page-cache pages): past
 * FY_DB_WAL_REUSE_FRAMES it restarts the WAL (RESTART: writers wait for the few frames left,
 * then the next one writes from the start of the file, over pages already in memory), and past
 * FY_DB_WAL_RESTART_FRAMES (a reader held it back) it truncates it, which bounds the file.
 * A commit through a connection of the process that leaves the WAL at FY_DB_WAL_REUSE_FRAMES
 * or more wakes the checkpointer at once (its WAL hook): waiting for the next interval let a
 * busy writer append some 10,000 more frames first, more under load. */
#define FY_DB_CKPT_INTERVAL_MS 100
#define FY_DB_WAL_REUSE_FRAMES 4096 /* ~8 MB with 2 KB pages, ~16 MB with 4 KB */
/* A RESTART waits this long at most for the write lock and then for readers still using the
 * WAL (a long listing, a backup), holding writers off for that second part; when it gives up,
 * no RESTART is tried for FY_DB_WAL_REUSE_BACKOFF_MS (writers lose 5% at most to a reader that
 * stays). */
#define FY_DB_WAL_REUSE_WAIT_MS    50
#define FY_DB_WAL_REUSE_BACKOFF_MS 1000
#define FY_DB_WAL_RESTART_FRAMES   16384 /* ~32 MB with 2 KB pages, ~64 MB with 4 KB */

struct fy_db_checkpointer;

/* Starts the thread on its own connection to path; *out is owned (fy_db_checkpointer_stop). */
FY_NODISCARD fy_err fy_db_checkpointer_start(const char *path,
                                             struct fy_db_checkpointer **out,
                                             struct fy_errmsg *em);

/* Stops the thread (after a last checkpoint) and frees c. NULL is a no-op. */
void fy_db_checkpointer_stop(struct fy_db_checkpointer *c);

/* This connection no longer checkpoints after its commits (a checkpointer does); a commit of it
 * that leaves the WAL long wakes the process's checkpointer. */
void fy_db_autocheckpoint_off(struct fy_db *db);

/* Maps an SQLite result code to fy_err: CONSTRAINT_UNIQUE/PRIMARYKEY -> ALREADY_EXISTS,
 * BUSY/LOCKED -> UNAVAILABLE, NOMEM -> NOMEM, others -> INTERNAL; logs and fills em. */
fy_err fy_db_err(struct fy_db *db, int rc, struct fy_errmsg *em);

/* Binding helpers: text may be NULL (binds NULL). Return the SQLite code. */
int fy_bind_text(sqlite3_stmt *st, int idx, const char *s);

/* Column text, "" when NULL (borrowed until the next step/reset). */
const char *fy_col_text(sqlite3_stmt *st, int col);

#endif
