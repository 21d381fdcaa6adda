/* fleetyard core: identifier validators, ARNs and bounded number parsing.
 *
 * One validator per identifier, shared by the HTTP API and the MQTT topic parsers. Patterns and
 * lengths follow the botocore iot model (../shared/reference/AWS_IOT_BEHAVIOUR.md §2). All
 * functions are pure and thread-safe.
 */
#ifndef FY_CORE_NAMES_H
#define FY_CORE_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define FY_NAME_MAX        128 /* thing, thing type, thing group, billing group */
#define FY_JOB_ID_MAX      64  /* job id, job template id */
#define FY_POLICY_NAME_MAX 128
#define FY_SHADOW_NAME_MAX 64
#define FY_ATTR_KEY_MAX    128
#define FY_ATTR_VALUE_MAX  800
#define FY_DESCRIPTION_MAX 2028
#define FY_TAG_KEY_MAX     128
#define FY_TAG_VALUE_MAX   256
#define FY_ARN_MAX         2048
#define FY_ACCOUNT_ID_LEN  12

/* [a-zA-Z0-9:_-]{1,128}: things, thing types, thing groups, billing groups. */
bool fy_valid_thing_name(const char *s);
/* [a-zA-Z0-9_-]{1,64}. */
bool fy_valid_job_id(const char *s);
/* [\w+=,.@-]{1,128}. */
bool fy_valid_policy_name(const char *s);
/* [$a-zA-Z0-9:_-]{1,64}. */
bool fy_valid_shadow_name(const char *s);
/* [a-zA-Z0-9_\-.]{1,128}. */
bool fy_valid_fleet_metric_name(const char *s);
/* Attribute key [a-zA-Z0-9_.,@/:#-]{1,128}. */
bool fy_valid_attr_key(const char *s);
/* Attribute value [a-zA-Z0-9_.,@/:#=\[\]-]{0,800}. */
bool fy_valid_attr_value(const char *s);
/* Description: printable characters and space, at most FY_DESCRIPTION_MAX bytes. */
bool fy_valid_description(const char *s);
/* AWS account id: exactly 12 digits. */
bool fy_valid_account_id(const char *s);
/* Region: [a-z0-9-]{1,32}. */
bool fy_valid_region(const char *s);

/* A parsed ARN `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`; fields point into buf. */
struct fy_arn {
    char buf[FY_ARN_MAX + 1];
    const char *partition, *service, *region, *account;
    const char *type;     /* resource type before the first '/', e.g. "thing" */
    const char *resource; /* the rest after the first '/', e.g. the thing name ("" if none) */
};

/* Splits an ARN. Returns FY_ERR_INVALID_REQUEST (with message) when it is not an ARN. */
FY_NODISCARD fy_err fy_arn_parse(const char *s, struct fy_arn *out, struct fy_errmsg *em);

/* Parses a decimal unsigned number at *p (no sign, no spaces), at most max; advances *p past the
 * digits. Returns 0 on success, -1 on no digits or overflow past max. */
int fy_parse_u64(const char **p, uint64_t *v, uint64_t max);

/* Parses a whole string as a decimal in [min, max]; returns 0 on success. */
int fy_parse_i64_full(const char *s, int64_t min, int64_t max, int64_t *v);

#endif
