/* libFuzzer target: the backup file reader (server/archive.c) that `fleetyard-server restore`
 * runs on a file it is handed: the input is written to a temp file and opened as an archive;
 * every entry is listed, the manifest read as text and parsed, and each entry extracted (the
 * copy is removed again). Whatever the bytes, the reader must fail cleanly. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/alloc.h"
#include "server/archive.h"
#include "server/backup_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_entries(struct fy_archive *a, const char *dir)
{
    char **names = NULL, *text = NULL, out[256];
    size_t n = 0;
    struct fy_errmsg em = {""};
    if (fy_archive_read_text(a, FY_BACKUP_MANIFEST, &text, &em) == FY_ERR_OK) {
        json_decref(json_loads(text, 0, NULL));
        fy_free(text);
    }
    if (fy_archive_list(a, &names, &n, &em) != FY_ERR_OK) {
        return;
    }
    for (size_t i = 0; i < n && i < 8; i++) {
        int64_t sz = 0;
        snprintf(out, sizeof(out), "%s/e%zu", dir, i);
        if (fy_archive_extract(a, names[i], out, &sz, &em) == FY_ERR_OK) {
            unlink(out);
        }
    }
    fy_archive_names_free(names, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[] = "/tmp/fy-fuzz-archive-XXXXXX", path[64];
    if (!mkdtemp(dir)) {
        return 0;
    }
    snprintf(path, sizeof(path), "%s/backup", dir);
    FILE *f = fopen(path, "wb");
    if (f && fwrite(data, 1, size, f) == size && fclose(f) == 0) {
        struct fy_archive *a = NULL;
        struct fy_errmsg em = {""};
        if (fy_archive_open(path, &a, &em) == FY_ERR_OK) {
            read_entries(a, dir);
        }
        fy_archive_close(a);
    } else if (f) {
        fclose(f);
    }
    unlink(path);
    rmdir(dir);
    return 0;
}
