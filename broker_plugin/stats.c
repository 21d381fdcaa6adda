/* fleetyard broker plugin: the plugin's counters (core/stats.h FY_BSTAT_LIST) and its
 * transaction commit latency, kept in memory on the broker thread and written to the table
 * broker_stats about once a second (on TICK, when something changed), where GET /metrics reads
 * them. The values stored at start are the base the live counts add to, so a counter the
 * server shows never goes back when the broker restarts (at most the last second before a
 * crash is lost). */
#include <stdio.h>
#include <string.h>

#include "broker_plugin/plugin_int.h"
#include "core/fytime.h"
#include "core/log.h"
#include "core/names.h"

static const char SQL_LOAD[] = "SELECT key, value FROM broker_stats";
static const char SQL_PUT[] = "INSERT INTO broker_stats(key, value) VALUES (?, ?)"
                              " ON CONFLICT(key) DO UPDATE SET value = excluded.value";

/* The base slot of a stored key, or NULL for a key this build does not know. */
static uint64_t *base_of(struct fy_bstats *s, const char *key)
{
    for (int i = 0; i < FY_BSTAT__COUNT; i++) {
        if (strcmp(key, fy_bstat_key((enum fy_bstat)i)) == 0) {
            return &s->base[i];
        }
    }
    if (strcmp(key, FY_BSTAT_HIST_SUM) == 0) {
        return &s->hist_sum_base;
    }
    size_t np = strlen(FY_BSTAT_HIST_PREFIX);
    int64_t slot;
    if (strncmp(key, FY_BSTAT_HIST_PREFIX, np) == 0 &&
        fy_parse_i64_full(key + np, 0, FY_HIST_BUCKETS, &slot) == 0) {
        return &s->hist_base[slot];
    }
    return NULL;
}

void fy_bstats_load(struct fy_plugin *p)
{
    struct fy_errmsg em = {""};
    sqlite3_stmt *st = fy_db_stmt(p->db, SQL_LOAD, &em);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        uint64_t *v = base_of(&p->stats, fy_col_text(st, 0));
        if (v) {
            *v = (uint64_t)sqlite3_column_int64(st, 1);
        }
    }
    fy_stmt_done(st);
    if (!st) {
        fy_log(FY_LOG_WARN, "stats", "cannot read broker_stats: %s", em.msg);
    }
}

static bool put(sqlite3_stmt *st, const char *key, uint64_t v)
{
    fy_bind_text(st, 1, key);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)v);
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    fy_stmt_done(st);
    return ok;
}

/* Everything counted so far, to tell whether a flush has anything new. */
static uint64_t generation(const struct fy_bstats *s, const uint64_t *slots)
{
    uint64_t g = 0;
    for (int i = 0; i < FY_BSTAT__COUNT; i++) {
        g += s->live[i];
    }
    for (int i = 0; i < FY_HIST_SLOTS; i++) {
        g += slots[i];
    }
    return g;
}

/* The live commit histogram per slot (not cumulative). */
static void hist_slots(uint64_t *slots, uint64_t *sum_ns)
{
    for (int i = 0; i < FY_HIST_SLOTS; i++) {
        slots[i] = atomic_load_explicit(&fy_db_commit_hist.slot[i], memory_order_relaxed);
    }
    *sum_ns = atomic_load_explicit(&fy_db_commit_hist.sum_ns, memory_order_relaxed);
}

static fy_err write_all(struct fy_plugin *p, const uint64_t *slots, uint64_t sum_ns)
{
    struct fy_bstats *s = &p->stats;
    struct fy_errmsg em = {""};
    char key[64];
    sqlite3_stmt *st = fy_db_stmt(p->db, SQL_PUT, &em);
    bool ok = st != NULL;
    for (int i = 0; ok && i < FY_BSTAT__COUNT; i++) {
        ok = put(st, fy_bstat_key((enum fy_bstat)i), s->base[i] + s->live[i]);
    }
    for (int i = 0; ok && i < FY_HIST_SLOTS; i++) {
        snprintf(key, sizeof(key), FY_BSTAT_HIST_PREFIX "%d", i);
        ok = put(st, key, s->hist_base[i] + slots[i]);
    }
    ok = ok && put(st, FY_BSTAT_HIST_SUM, s->hist_sum_base + sum_ns);
    return ok ? FY_ERR_OK : FY_ERR_INTERNAL;
}

void fy_bstats_flush(struct fy_plugin *p, bool force)
{
    struct fy_bstats *s = &p->stats;
    uint64_t now = fy_mono_ns(), slots[FY_HIST_SLOTS], sum_ns;
    if (!force && now < s->next_flush_ns) {
        return;
    }
    s->next_flush_ns = now + (uint64_t)FY_PLUGIN_STATS_FLUSH_MS * 1000000u;
    hist_slots(slots, &sum_ns);
    if (generation(s, slots) == s->flushed_gen) {
        return;
    }
    struct fy_errmsg em = {""};
    fy_err e = fy_db_begin(p->db, &em);
    e = e ? e : write_all(p, slots, sum_ns);
    e = e ? e : fy_db_commit(p->db, &em);
    if (e) {
        fy_db_rollback(p->db);
        fy_log(FY_LOG_WARN, "stats", "cannot write broker_stats: %s", em.msg);
        return;
    }
    hist_slots(slots, &sum_ns); /* this commit counted itself: not a change to write again */
    s->flushed_gen = generation(s, slots);
}
