/* libFuzzer target: CloudWatch Logs filter patterns (logs/filter.c). The first line of the
 * input is the pattern, the rest the message it is matched against. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "logs/logs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fy_strndup((const char *)data, size);
    if (!s) {
        return 0;
    }
    char *nl = strchr(s, '\n');
    const char *msg = "";
    if (nl) {
        *nl = '\0';
        msg = nl + 1;
    }
    struct fy_logfilter *f = NULL;
    struct fy_errmsg em = {""};
    if (fy_logfilter_compile(s, &f, &em) == FY_ERR_OK) {
        (void)fy_logfilter_match(f, msg);
    }
    fy_logfilter_free(f);
    fy_free(s);
    return 0;
}
