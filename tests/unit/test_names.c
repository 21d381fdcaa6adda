/* Validators and ARN parsing: both sides of every pattern and length limit. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/codec.h"
#include "core/json.h"
#include "core/names.h"
#include "tests/unit/tap.h"

static char big[2100];

static const char *rep(char c, size_t n)
{
    memset(big, c, n);
    big[n] = '\0';
    return big;
}

static void test_things(void)
{
    ok(fy_valid_thing_name("temp-sensor_01:a"), "thing name with -_: accepted");
    ok(!fy_valid_thing_name(""), "empty thing name rejected");
    ok(!fy_valid_thing_name("a b"), "space rejected");
    ok(!fy_valid_thing_name("a/b"), "slash rejected");
    ok(!fy_valid_thing_name("ä"), "non-ASCII rejected");
    ok(fy_valid_thing_name(rep('a', FY_NAME_MAX)), "128 characters accepted");
    ok(!fy_valid_thing_name(rep('a', FY_NAME_MAX + 1)), "129 characters rejected");
}

static void test_others(void)
{
    ok(fy_valid_job_id(rep('j', FY_JOB_ID_MAX)), "job id 64 accepted");
    ok(!fy_valid_job_id(rep('j', FY_JOB_ID_MAX + 1)), "job id 65 rejected");
    ok(!fy_valid_job_id("a:b"), "job id with : rejected");
    ok(fy_valid_policy_name("p+=,.@-_1"), "policy name punctuation accepted");
    ok(!fy_valid_policy_name("p/1"), "policy name with / rejected");
    ok(fy_valid_shadow_name("$package"), "shadow name with $ accepted");
    ok(!fy_valid_shadow_name(rep('s', FY_SHADOW_NAME_MAX + 1)), "shadow name 65 rejected");
    ok(fy_valid_attr_key("a.b,c@d/e:f#g-h_i"), "attribute key punctuation accepted");
    ok(!fy_valid_attr_key("a=b"), "attribute key with = rejected");
    ok(!fy_valid_attr_key(""), "empty attribute key rejected");
    ok(fy_valid_attr_value(""), "empty attribute value accepted");
    ok(fy_valid_attr_value("x=[1]"), "attribute value with =[] accepted");
    ok(!fy_valid_attr_value("a b"), "attribute value with space rejected");
    ok(fy_valid_attr_value(rep('v', FY_ATTR_VALUE_MAX)), "attribute value 800 accepted");
    ok(!fy_valid_attr_value(rep('v', FY_ATTR_VALUE_MAX + 1)), "attribute value 801 rejected");
    ok(fy_valid_description(rep('d', FY_DESCRIPTION_MAX)), "description 2028 accepted");
    ok(!fy_valid_description(rep('d', FY_DESCRIPTION_MAX + 1)), "description 2029 rejected");
    ok(!fy_valid_description("a\nb"), "description with newline rejected");
    ok(fy_valid_account_id("123456789012"), "account id accepted");
    ok(!fy_valid_account_id("12345678901"), "11-digit account id rejected");
    ok(fy_valid_region("eu-west-1"), "region accepted");
    ok(!fy_valid_region("EU"), "upper-case region rejected");
}

static void test_arn(void)
{
    struct fy_arn a;
    struct fy_errmsg em;
    ok(fy_arn_parse("arn:aws:iot:us-east-1:123456789012:thing/t1", &a, &em) == FY_ERR_OK &&
           strcmp(a.type, "thing") == 0 && strcmp(a.resource, "t1") == 0 &&
           strcmp(a.region, "us-east-1") == 0 && strcmp(a.account, "123456789012") == 0,
       "thing ARN parsed");
    ok(fy_arn_parse("arn:aws:iot:us-east-1:1:topic/a/b/c", &a, &em) == FY_ERR_OK &&
           strcmp(a.resource, "a/b/c") == 0,
       "topic ARN keeps slashes");
    ok(fy_arn_parse("arn:aws:iot:r:1:thing", &a, &em) == FY_ERR_OK && strcmp(a.resource, "") == 0,
       "ARN without a resource name");
    ok(fy_arn_parse("thing/t1", &a, &em) == FY_ERR_INVALID_REQUEST, "non-ARN rejected");
    ok(fy_arn_parse("arn:aws:iot:r", &a, &em) == FY_ERR_INVALID_REQUEST, "short ARN rejected");
    ok(fy_arn_parse(rep('a', FY_ARN_MAX + 1), &a, &em) == FY_ERR_INVALID_REQUEST,
       "over-long ARN rejected");
}

static void test_numbers(void)
{
    int64_t v;
    uint64_t u;
    const char *p = "42x";
    ok(fy_parse_u64(&p, &u, 100) == 0 && u == 42 && *p == 'x', "u64 stops at non-digit");
    p = "101";
    ok(fy_parse_u64(&p, &u, 100) == -1, "u64 over max rejected");
    p = "18446744073709551616";
    ok(fy_parse_u64(&p, &u, UINT64_MAX) == -1, "u64 overflow rejected");
    ok(fy_parse_i64_full("-5", -10, 10, &v) == 0 && v == -5, "negative in range");
    ok(fy_parse_i64_full("11", -10, 10, &v) == -1, "over range rejected");
    ok(fy_parse_i64_full("1 ", 0, 10, &v) == -1, "trailing garbage rejected");
    ok(fy_parse_i64_full("", 0, 10, &v) == -1, "empty rejected");
}

/* Error messages are always valid UTF-8 (they quote client input and end up in JSON). */
static void test_errmsg_utf8(void)
{
    static const struct {
        const char *in, *out;
    } rows[] = {
        {"plain", "plain"},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
        {"\"\\\xde'", "\"\\?'"},              /* a lead byte, then a non-continuation */
        {"\xde\xa1", "\xde\xa1"},             /* U+07A1 is fine */
        {"cut \xe2\x82", "cut ??"},           /* a character cut in two */
        {"\xc0\xaf overlong", "?? overlong"}, /* overlong form */
        {"\xed\xa0\x80 surrogate", "??? surrogate"},
        {"\xf4\x90\x80\x80 too high", "???? too high"},
        {"tab\tnl\n", "tab?nl?"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct fy_errmsg em;
        fy_errf(&em, "%s", rows[i].in);
        ok(strcmp(em.msg, rows[i].out) == 0, "error text repaired: row %zu -> %s", i, em.msg);
    }
}

/* fy_json_dumps gives json_dumps's text on both sides of its buffer size. */
static void test_json_dumps(void)
{
    static char text[FY_JSON_DUMP_BUF + 8];
    for (int d = -2; d <= 2; d++) {
        size_t len = (size_t)(FY_JSON_DUMP_BUF + d) - 2; /* the dump adds two quotes */
        memset(text, 'a', len);
        text[len] = '\0';
        json_t *j = json_string(text);
        char *ours = fy_json_dumps(j, JSON_ENCODE_ANY), *theirs = json_dumps(j, JSON_ENCODE_ANY);
        ok(ours && theirs && strcmp(ours, theirs) == 0 && strlen(ours) == len + 2,
           "json dump of %zu bytes (buffer %d)", len + 2, FY_JSON_DUMP_BUF);
        fy_free(ours);
        free(theirs);
        json_decref(j);
    }
    json_t *o = json_pack("{s:i, s:[s, n]}", "a", 1, "b", "x");
    char *s = fy_json_dump(o);
    ok(s && strcmp(s, "{\"a\":1,\"b\":[\"x\",null]}") == 0, "json dump compact: %s", s);
    fy_free(s);
    json_decref(o);
}

/* fy_uuid4: version 4 text, all distinct, across several per-thread blocks. */
static void test_uuid4(void)
{
    enum { N = 3 * FY_UUID_BLOCK / 16 + 5 };
    static char ids[N][FY_UUID_LEN + 1];
    bool form = true, distinct = true;
    for (int i = 0; i < N; i++) {
        form &= fy_uuid4(ids[i]) == FY_ERR_OK && strlen(ids[i]) == FY_UUID_LEN &&
                ids[i][8] == '-' && ids[i][14] == '4' && strchr("89ab", ids[i][19]) != NULL;
        for (int k = 0; k < i && distinct; k++) {
            distinct &= strcmp(ids[i], ids[k]) != 0;
        }
    }
    ok(form, "uuid4: %d ids of version 4, variant 10", N);
    ok(distinct, "uuid4: %d ids, all distinct (over 3 blocks of %d bytes)", N, FY_UUID_BLOCK);
}

int main(void)
{
    test_json_dumps();
    test_uuid4();
    test_errmsg_utf8();
    test_things();
    test_others();
    test_arn();
    test_numbers();
    return done();
}
