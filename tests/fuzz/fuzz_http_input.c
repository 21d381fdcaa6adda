/* Fuzzes the request-input parsers: route matching with label capture over the real route
 * tables, query-string parsing, strict JSON body parsing and pagination tokens. */
#include <stdint.h>
#include <string.h>

#include "api/api_int.h"
#include "api/routes.h"
#include "core/alloc.h"
#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_route(const char *path, const char *query, const char *method)
{
    struct api_req req;
    const struct api_route *route;
    memset(&req, 0, sizeof(req));
    req.method = method;
    fy_buf_init(&req.body, API_BODY_MAX);
    if (api_parse_query(&req, query) == FY_ERR_OK) {
        char *key = NULL;
        int64_t limit;
        if (api_page_in(&req, "nextToken", "maxResults", 10, 250, &key, &limit) == FY_ERR_OK) {
            fy_free(key);
        }
    }
    (void)api_route_find(&req, FY_SVC__COUNT, path, &route);
    api_req_release(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};
    static int init;
    if (!init) {
        fy_json_init();
        init = 1;
    }
    char *buf = fy_malloc(size + 3);
    if (!buf || size < 1) {
        fy_free(buf);
        return 0;
    }
    memcpy(buf, data, size);
    memset(buf + size, 0, 3);
    const char *path = buf + 1;
    const char *query = path + strlen(path) + 1;
    if (query > buf + size) {
        query = buf + size + 1;
    }
    fuzz_route(path, query, methods[(unsigned char)buf[0] % 5]);
    json_t *j = NULL;
    struct fy_errmsg em;
    if (fy_json_parse((const char *)data, size, FY_JSON_MAX_DEPTH, &j, &em) == FY_ERR_OK) {
        json_decref(j);
    }
    fy_free(buf);
    return 0;
}
