/* Fuzzes the shadow update path: the input is an update request applied to a fixed stored
 * document (desired, reported, nested objects, arrays). Checks, besides memory safety, that an
 * accepted update yields a stored document that reads back and a version one higher. */
#include <stdint.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/json.h"
#include "shadow/shadow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char FZ_DOC[] =
    "{\"state\":{\"desired\":{\"a\":1,\"o\":{\"x\":[1,2],\"y\":\"s\"}},"
    "\"reported\":{\"a\":2,\"o\":{\"x\":[1]}}},\"metadata\":{\"desired\":{\"a\":{\"timestamp\":1},"
    "\"o\":{\"x\":{\"timestamp\":1},\"y\":{\"timestamp\":1}}},\"reported\":{\"a\":{\"timestamp\":"
    "1},\"o\":{\"x\":{\"timestamp\":1}}}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    struct fy_shadow_update u;
    struct fy_errmsg em;
    char *out = NULL;
    if (!init) {
        fy_json_init();
        init = 1;
    }
    if (fy_shadow_apply(FZ_DOC, 7, (const char *)data, size, 1700000000, &u, &em) != FY_ERR_OK) {
        return 0;
    }
    if (u.version != 8 || !u.reply || !u.documents) {
        abort();
    }
    if (fy_shadow_get_doc(u.doc, u.version, 1700000000, NULL, &out, &em) != FY_ERR_OK) {
        abort();
    }
    fy_free(out);
    fy_shadow_update_clear(&u);
    return 0;
}
