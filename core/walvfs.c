/* fleetyard core: the SQLite VFS every fy_db connection opens its files with.
 *
 * It is the platform's default VFS, except for one thing: a transaction's writes to the WAL
 * file are gathered and handed to the operating system in one write. SQLite appends each
 * frame with two calls (its 24-byte header, then the page), so a commit of 11 pages cost 22
 * pwrite calls; now it costs one. Nothing else changes: the database file, the journal and the
 * wal-index (shared memory) go straight through.
 *
 * When the gathered bytes reach the file (so that nothing can see a frame that is not there):
 * - right after the page of a commit frame (a frame header whose "database size after commit"
 *   is not zero): before SQLite publishes the commit in the wal-index, and so before anyone,
 *   in this process or another, can read it; and before the commit returns to its caller;
 * - before any other operation on the WAL file (read, sync, truncate, size, lock, close) and
 *   at every shared-memory barrier or lock, the points where SQLite publishes or hands over;
 * - when a write does not continue the gathered bytes, or they would pass FY_WALVFS_BUF_MAX.
 * A write error met then is the error of the call that caused it, as it would have been.
 */
#include "core/walvfs.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "core/alloc.h"

#define WAL_FRAME_HDR 24 /* SQLite's WAL frame header: page number, db size after commit, ... */

struct wal_file {
    sqlite3_file base; /* pMethods = &wal_methods */
    sqlite3_file *real;
    unsigned char *buf; /* FY_WALVFS_BUF_MAX bytes, allocated at the first write */
    size_t len;
    sqlite3_int64 off;   /* file offset of buf[0] */
    bool flush_on_write; /* a commit frame's header is gathered: flush after its page */
};

static sqlite3_vfs *base_vfs;
static sqlite3_vfs wal_vfs;

static int flush(struct wal_file *f)
{
    int rc = SQLITE_OK;
    if (f->len > 0) {
        rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len, f->off);
        f->len = 0;
    }
    return rc;
}

static bool is_commit_header(const void *p, int amt)
{
    const unsigned char *h = p;
    return amt == WAL_FRAME_HDR && (h[4] | h[5] | h[6] | h[7]) != 0;
}

static int gather(struct wal_file *f, const void *p, int amt, sqlite3_int64 off)
{
    size_t n = (size_t)amt;
    if (f->len > 0 && (off != f->off + (sqlite3_int64)f->len || f->len + n > FY_WALVFS_BUF_MAX)) {
        int rc = flush(f);
        if (rc != SQLITE_OK) {
            return rc;
        }
    }
    /* len + n <= FY_WALVFS_BUF_MAX now: w_write passes larger writes through, and the bytes
     * gathered before went out above when this one would not have fitted */
    if (!f->buf) {
        f->buf = fy_malloc(FY_WALVFS_BUF_MAX);
        if (!f->buf) {
            return f->real->pMethods->xWrite(f->real, p, amt, off); /* nothing gathered yet */
        }
    }
    if (f->len == 0) {
        f->off = off;
    }
    memcpy(f->buf + f->len, p, n);
    f->len += n;
    return SQLITE_OK;
}

static int w_write(sqlite3_file *pf, const void *p, int amt, sqlite3_int64 off)
{
    struct wal_file *f = (struct wal_file *)pf;
    if (amt > FY_WALVFS_BUF_MAX) {
        int rc = flush(f);
        return rc ? rc : f->real->pMethods->xWrite(f->real, p, amt, off);
    }
    bool last = f->flush_on_write;
    int rc = gather(f, p, amt, off);
    f->flush_on_write = rc == SQLITE_OK && is_commit_header(p, amt);
    return rc == SQLITE_OK && last ? flush(f) : rc;
}

static int w_close(sqlite3_file *pf)
{
    struct wal_file *f = (struct wal_file *)pf;
    int rc = flush(f);
    int rc2 = f->real->pMethods->xClose(f->real);
    fy_free(f->buf);
    f->buf = NULL;
    return rc ? rc : rc2;
}

/* The other methods: gathered bytes out first, then the real file's method. */
#define REAL(f)  (((struct wal_file *)(f))->real)
#define FLUSH(f) flush((struct wal_file *)(f))

static int w_read(sqlite3_file *f, void *p, int amt, sqlite3_int64 off)
{
    int rc = FLUSH(f);
    return rc ? rc : REAL(f)->pMethods->xRead(REAL(f), p, amt, off);
}

static int w_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    int rc = FLUSH(f);
    return rc ? rc : REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int w_sync(sqlite3_file *f, int flags)
{
    int rc = FLUSH(f);
    return rc ? rc : REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int w_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    int rc = FLUSH(f);
    return rc ? rc : REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int w_lock(sqlite3_file *f, int lock)
{
    int rc = FLUSH(f);
    return rc ? rc : REAL(f)->pMethods->xLock(REAL(f), lock);
}

static int w_unlock(sqlite3_file *f, int lock)
{
    int rc = FLUSH(f);
    return rc ? rc : REAL(f)->pMethods->xUnlock(REAL(f), lock);
}

static int w_check_reserved(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int w_file_control(sqlite3_file *f, int op, void *arg)
{
    int rc = FLUSH(f);
    return rc ? rc : REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int w_sector_size(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int w_device_characteristics(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int w_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, pp);
}

static int w_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    int rc = FLUSH(f);
    return rc ? rc : REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

static void w_shm_barrier(sqlite3_file *f)
{
    (void)FLUSH(f); /* an error here also failed, or will fail, a write or a lock */
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int w_shm_unmap(sqlite3_file *f, int del)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static const sqlite3_io_methods wal_methods = {
    2, /* no xFetch/xUnfetch: SQLite never maps the WAL file */
    w_close,
    w_read,
    w_write,
    w_truncate,
    w_sync,
    w_file_size,
    w_lock,
    w_unlock,
    w_check_reserved,
    w_file_control,
    w_sector_size,
    w_device_characteristics,
    w_shm_map,
    w_shm_lock,
    w_shm_barrier,
    w_shm_unmap,
    NULL,
    NULL,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *pf, int flags, int *out)
{
    (void)vfs;
    if (!(flags & SQLITE_OPEN_WAL)) {
        return base_vfs->xOpen(base_vfs, name, pf, flags, out); /* the real file, in place */
    }
    struct wal_file *f = (struct wal_file *)pf;
    memset(f, 0, sizeof(*f));
    f->real = (sqlite3_file *)(f + 1);
    int rc = base_vfs->xOpen(base_vfs, name, f->real, flags, out);
    f->base.pMethods = rc == SQLITE_OK ? &wal_methods : NULL;
    return rc;
}

static void install(void)
{
    base_vfs = sqlite3_vfs_find(NULL);
    if (!base_vfs) {
        return;
    }
    wal_vfs = *base_vfs;
    wal_vfs.zName = FY_WALVFS_NAME;
    wal_vfs.szOsFile = (int)sizeof(struct wal_file) + base_vfs->szOsFile;
    wal_vfs.xOpen = v_open;
    wal_vfs.pNext = NULL;
    if (sqlite3_vfs_register(&wal_vfs, 0) != SQLITE_OK) {
        base_vfs = NULL;
    }
}

const char *fy_walvfs_name(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install);
    return base_vfs ? FY_WALVFS_NAME : NULL;
}
