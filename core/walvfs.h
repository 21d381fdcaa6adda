/* fleetyard core: the SQLite VFS of every fy_db connection (walvfs.c): the default VFS, with a
 * transaction's WAL appends handed to the OS in one write. */
#ifndef FY_CORE_WALVFS_H
#define FY_CORE_WALVFS_H

#include <sqlite3.h>

#define FY_WALVFS_NAME "fy-wal"
/* Gathered WAL bytes at most (a larger commit goes out in several writes): below 128 KB, the
 * largest write SQLite's unix VFS takes at once (it masks the length with 0x1ffff). */
#define FY_WALVFS_BUF_MAX (96 * 1024)

/* Registers the VFS once (not as the default) and returns its name for sqlite3_open_v2; NULL
 * when it could not be registered (then the default VFS is used). */
const char *fy_walvfs_name(void);

#endif
