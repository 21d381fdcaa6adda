/* The backup file format (server/archive.c, an SQLite archive): round trip of text and files,
 * streaming in chunks, refusals (existing output, not an archive, compressed or missing
 * entries, too many entries), and that nothing is visible before the commit. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/archive.c"
#include "tests/unit/tap.h"

static char dir[64];

static const char *path_of(const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%s", dir, name);
    return buf;
}

/* A file of size bytes with a position-dependent pattern. */
static int write_pattern(const char *path, size_t size)
{
    FILE *f = fopen(path, "wb");
    for (size_t i = 0; f && i < size; i++) {
        fputc((int)((i * 7 + i / 251) & 0xff), f);
    }
    return f ? fclose(f) : -1;
}

static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb, ca = 0, cb = 0;
    while (same && ca != EOF) {
        ca = fgetc(fa);
        cb = fgetc(fb);
        same = ca == cb;
    }
    if (fa) {
        fclose(fa);
    }
    if (fb) {
        fclose(fb);
    }
    return same;
}

static void test_round_trip(void)
{
    char arc[128], big[128], out[128];
    struct fy_archive *a;
    struct fy_errmsg em;
    size_t size = 3 * FY_ARCHIVE_CHUNK + 123; /* several chunks and a partial one */
    write_pattern(path_of("big.bin", big, sizeof(big)), size);
    path_of("a.fyb", arc, sizeof(arc));
    ok(fy_archive_create(arc, &a, &em) == FY_ERR_OK, "create");
    ok(fy_archive_add_file(a, "data/big.bin", big, &em) == FY_ERR_OK, "add a file");
    ok(fy_archive_add_text(a, "note.txt", "hello", 0600, &em) == FY_ERR_OK, "add text");
    ok(fy_archive_add_text(a, "empty", "", 0600, &em) == FY_ERR_OK, "add an empty entry");
    ok(fy_archive_add_text(a, "note.txt", "again", 0600, &em) == FY_ERR_INTERNAL,
       "a duplicate name is refused");
    ok(fy_archive_commit(a, &em) == FY_ERR_OK, "commit");
    fy_archive_close(a);

    ok(fy_archive_open(arc, &a, &em) == FY_ERR_OK, "open");
    char *text = NULL, **names = NULL;
    size_t n = 0;
    ok(fy_archive_read_text(a, "note.txt", &text, &em) == FY_ERR_OK && text &&
           strcmp(text, "hello") == 0,
       "text reads back");
    fy_free(text);
    ok(fy_archive_read_text(a, "empty", &text, &em) == FY_ERR_OK && text && !*text,
       "empty entry reads back");
    fy_free(text);
    ok(fy_archive_read_text(a, "missing", &text, &em) == FY_ERR_NOT_FOUND, "missing entry");
    ok(fy_archive_read_text(a, "data/big.bin", &text, &em) == FY_ERR_INVALID_REQUEST,
       "read_text caps the size: %s", em.msg);
    int64_t got = 0;
    path_of("out.bin", out, sizeof(out));
    fy_err e = fy_archive_extract(a, "data/big.bin", out, &got, &em);
    ok(!e && got == (int64_t)size && same_file(big, out),
       "extract streams the file back (%lld bytes)", (long long)got);
    ok(fy_archive_extract(a, "data/big.bin", out, NULL, &em) == FY_ERR_INTERNAL,
       "extract never overwrites");
    e = fy_archive_list(a, &names, &n, &em);
    ok(!e && n == 3 && strcmp(names[0], "data/big.bin") == 0, "list: %zu entries", n);
    fy_archive_names_free(names, n);
    fy_archive_close(a);
    unlink(out);
    unlink(big);

    ok(fy_archive_create(arc, &a, &em) == FY_ERR_ALREADY_EXISTS, "create refuses an existing file");
    unlink(arc);
}

static void test_refusals(void)
{
    char p[128];
    struct fy_archive *a;
    struct fy_errmsg em;
    write_pattern(path_of("junk", p, sizeof(p)), 4096);
    ok(fy_archive_open(p, &a, &em) == FY_ERR_INVALID_REQUEST, "junk is refused: %s", em.msg);
    unlink(p);
    sqlite3 *h;
    path_of("c.fyb", p, sizeof(p));
    sqlite3_open(p, &h);
    sqlite3_exec(h,
                 "CREATE TABLE sqlar(name TEXT PRIMARY KEY, mode INT, mtime INT, sz INT, data "
                 "BLOB); INSERT INTO sqlar VALUES ('z', 33188, 0, 1000, x'78da')",
                 NULL, NULL, NULL);
    sqlite3_close(h);
    char *text = NULL;
    ok(fy_archive_open(p, &a, &em) == FY_ERR_OK, "an archive written by sqlite3 -Ac opens");
    ok(fy_archive_read_text(a, "z", &text, &em) == FY_ERR_INVALID_REQUEST && !text,
       "a compressed entry is refused: %s", em.msg);
    fy_archive_close(a);
    unlink(p);

    path_of("u.fyb", p, sizeof(p));
    ok(fy_archive_create(p, &a, &em) == FY_ERR_OK, "create");
    ok(fy_archive_add_text(a, "x", "y", 0600, &em) == FY_ERR_OK, "add");
    fy_archive_close(a); /* no commit */
    char **names = NULL;
    size_t n = 9;
    ok(fy_archive_open(p, &a, &em) != FY_ERR_OK ||
           (fy_archive_list(a, &names, &n, &em) != FY_ERR_OK || n == 0),
       "an uncommitted archive holds nothing");
    fy_archive_names_free(names, n);
    fy_archive_close(a);
    unlink(p);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/fy-test-archive-XXXXXX");
    if (!mkdtemp(dir)) {
        return 1;
    }
    test_round_trip();
    test_refusals();
    rmdir(dir);
    return done();
}
