/* SearchIndex's choice of plan. A page of things in name order comes fastest from one of two
 * plans and only the data knows which: walking things in name order and probing each one
 * (correlated) stops after a page when matches are common, while starting from the index of a
 * selective term (sets) avoids reading the fleet when they are rare. The walk runs first with
 * a small time budget (sqlite3_progress_handler); when the budget runs out the set plan
 * answers instead. Both plans give the same rows. */
#include "core/alloc.h"
#include "core/fytime.h"
#include "index/index_int.h"
#include "index/search_int.h"

#define PLAN_CHECK_STEPS 1000 /* VM steps between budget checks */

static const char THINGS_IDS[] = "SELECT t.id, t.name FROM things t WHERE ";
static const char THINGS_PAGE[] = " AND t.name > ? ORDER BY t.name LIMIT ?";
static const char GROUPS_IDS[] = "SELECT tg.id, tg.name FROM thing_groups tg WHERE ";
static const char GROUPS_PAGE[] = " AND tg.name > ? ORDER BY tg.name LIMIT ?";

struct budget {
    uint64_t deadline;
    bool hit;
};

static int over_budget(void *arg)
{
    struct budget *b = arg;
    if (fy_mono_ns() > b->deadline) {
        b->hit = true;
        return 1;
    }
    return 0;
}

/* Runs one plan into p (ids cleared first). With a budget, *hit says it ran out (p is then
 * incomplete and the error is not reported). */
static fy_err run_plan(struct fy_db *db,
                       const struct fy_index_sql *q,
                       bool things,
                       const char *after,
                       struct fy_search_page *p,
                       struct budget *b,
                       struct fy_errmsg *em)
{
    sqlite3_stmt *st = NULL;
    p->n = 0;
    fy_err e = fy_index_prepare(db, things ? THINGS_IDS : GROUPS_IDS, q,
                                things ? THINGS_PAGE : GROUPS_PAGE, &st, em);
    if (e) {
        return e;
    }
    sqlite3_bind_text(st, (int)q->nparams + 1, after ? after : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, (int)q->nparams + 2, (sqlite3_int64)p->cap);
    sqlite3 *h = fy_db_handle(db);
    if (b) {
        sqlite3_progress_handler(h, PLAN_CHECK_STEPS, over_budget, b);
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && p->n < p->cap) {
        p->ids[p->n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_progress_handler(h, 0, NULL, NULL);
    sqlite3_finalize(st);
    if (b && b->hit) {
        return FY_ERR_OK;
    }
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? FY_ERR_OK : fy_db_err(db, rc, em);
}

fy_err fy_search_ids(struct fy_db *db,
                     const char *query,
                     enum fy_index_kind kind,
                     const struct fy_index_config *cfg,
                     const char *after,
                     uint64_t budget_ns,
                     struct fy_search_page *p,
                     struct fy_errmsg *em)
{
    struct fy_index_sql *q = NULL;
    bool things = kind == FY_INDEX_KIND_THINGS;
    struct budget b = {fy_mono_ns() + budget_ns, false};
    fy_err e = fy_index_compile_opts(query, kind, cfg, things, &q, em);
    e = e ? e : run_plan(db, q, things, after, p, things ? &b : NULL, em);
    fy_index_sql_free(q);
    q = NULL;
    if (e || !b.hit) {
        return e;
    }
    e = fy_index_compile_opts(query, kind, cfg, false, &q, em);
    e = e ? e : run_plan(db, q, things, after, p, NULL, em);
    fy_index_sql_free(q);
    return e;
}
