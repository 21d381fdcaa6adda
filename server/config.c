#include "server/config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/names.h"

enum opt_kind { OPT_STR, OPT_PORT, OPT_INT, OPT_BOOL, OPT_FLAG_TRUE, OPT_FLAG_FALSE };

struct opt {
    const char *name; /* config-file key; the command line uses --name */
    enum opt_kind kind;
    size_t offset;
    size_t size;
    const char *help;
};

#define O(name, kind, field, help)                                                             \
    {                                                                                          \
        name, kind, offsetof(struct fy_config, field), sizeof(((struct fy_config *)0)->field), \
            help                                                                               \
    }

static const struct opt options[] = {
    O("data-dir", OPT_STR, data_dir, "data directory (default ./data)"),
    O("http-bind", OPT_STR, http_bind, "HTTP listen address (default 127.0.0.1)"),
    O("http-port", OPT_PORT, http_port, "HTTP port, 0 = any free port (default 8080)"),
    O("mqtt-host", OPT_STR, mqtt_host, "host name devices use for MQTT (default localhost)"),
    O("mqtt-port", OPT_PORT, mqtt_port, "MQTT/TLS port, 0 = any free port (default 8883)"),
    O("mqtt-bind", OPT_STR, mqtt_bind, "MQTT listen address (default 127.0.0.1)"),
    O("broker", OPT_BOOL, broker, "start the supervised mosquitto: true|false (default true)"),
    O("no-broker", OPT_FLAG_FALSE, broker, "same as broker=false: HTTP API only"),
    O("plugin", OPT_STR, plugin, "broker plugin (default: fleetyard_plugin.so next to the binary)"),
    O("mosquitto", OPT_STR, mosquitto, "mosquitto binary (default /usr/sbin/mosquitto)"),
    O("threads", OPT_INT, threads, "HTTP worker threads (default 4)"),
    O("cpu-affinity",
      OPT_STR,
      cpu_affinity,
      "pin HTTP threads to CPUs: auto|true|false (default auto: when threads is a multiple "
      "of the CPUs)"),
    O("region", OPT_STR, site.region, "region in ARNs (default us-east-1)"),
    O("account-id", OPT_STR, site.account, "account id in ARNs (default 123456789012)"),
    O("auth", OPT_BOOL, auth, "verify SigV4 signatures: true|false (default true)"),
    O("no-auth", OPT_FLAG_FALSE, auth, "same as auth=false: accept unsigned requests"),
    O("enable-reset", OPT_FLAG_TRUE, reset_enabled, "enable POST /fleetyard/reset"),
    O("delete-shadows-with-thing",
      OPT_FLAG_TRUE,
      delete_shadows_with_thing,
      "DeleteThing also deletes the thing's shadows (AWS keeps them)"),
    O("thing-type-delete-wait",
      OPT_INT,
      thing_type_delete_wait,
      "seconds between DeprecateThingType and DeleteThingType (default 300)"),
    O("log-level", OPT_STR, log_level, "error|warn|info|debug (default info)"),
    O("ca-cert", OPT_STR, ca_cert, "use this CA certificate (PEM) instead of generating one"),
    O("ca-key", OPT_STR, ca_key, "private key (PEM) of --ca-cert"),
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static void config_defaults(struct fy_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->data_dir, sizeof(cfg->data_dir), "data");
    snprintf(cfg->http_bind, sizeof(cfg->http_bind), "127.0.0.1");
    snprintf(cfg->mqtt_host, sizeof(cfg->mqtt_host), "localhost");
    snprintf(cfg->mqtt_bind, sizeof(cfg->mqtt_bind), "127.0.0.1");
    snprintf(cfg->mosquitto, sizeof(cfg->mosquitto), FY_DEFAULT_MOSQUITTO);
    cfg->broker = true;
    snprintf(cfg->site.region, sizeof(cfg->site.region), FY_DEFAULT_REGION);
    snprintf(cfg->site.account, sizeof(cfg->site.account), FY_DEFAULT_ACCOUNT);
    snprintf(cfg->log_level, sizeof(cfg->log_level), "info");
    cfg->http_port = FY_DEFAULT_HTTP_PORT;
    cfg->mqtt_port = FY_DEFAULT_MQTT_PORT;
    cfg->threads = FY_DEFAULT_THREADS;
    snprintf(cfg->cpu_affinity, sizeof(cfg->cpu_affinity), "auto");
    cfg->auth = true;
    cfg->thing_type_delete_wait = FY_DEFAULT_TYPE_DELETE_WAIT;
}

bool fy_config_affinity(const struct fy_config *cfg, enum api_affinity_mode *out)
{
    static const struct {
        const char *name;
        enum api_affinity_mode mode;
    } modes[] = {
        {"auto", API_AFFINITY_AUTO}, {"true", API_AFFINITY_ON}, {"false", API_AFFINITY_OFF}};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(cfg->cpu_affinity, modes[i].name) == 0) {
            *out = modes[i].mode;
            return true;
        }
    }
    return false;
}

static const struct opt *find_opt(const char *name)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (strcmp(options[i].name, name) == 0) {
            return &options[i];
        }
    }
    return NULL;
}

static fy_err set_int(const struct opt *o, void *field, const char *v, struct fy_errmsg *em)
{
    int64_t n;
    int64_t max = o->kind == OPT_PORT ? 65535 : (o->size == sizeof(int) ? 1000000 : INT32_MAX);
    if (fy_parse_i64_full(v, 0, max, &n) != 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "%s: '%.64s' is not a number in 0..%lld",
                       o->name, v, (long long)max);
    }
    if (o->size == sizeof(int)) {
        *(int *)field = (int)n;
    } else {
        *(int64_t *)field = n;
    }
    return FY_ERR_OK;
}

static fy_err
set_opt(struct fy_config *cfg, const struct opt *o, const char *v, struct fy_errmsg *em)
{
    void *field = (char *)cfg + o->offset;
    switch (o->kind) {
    case OPT_STR:
        if (strlen(v) >= o->size) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST, "%s: value too long", o->name);
        }
        memcpy(field, v, strlen(v) + 1);
        return FY_ERR_OK;
    case OPT_PORT:
    case OPT_INT:
        return set_int(o, field, v, em);
    case OPT_BOOL:
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST, "%s: expected true or false", o->name);
        }
        *(bool *)field = strcmp(v, "true") == 0;
        return FY_ERR_OK;
    case OPT_FLAG_TRUE:
    case OPT_FLAG_FALSE:
        *(bool *)field = o->kind == OPT_FLAG_TRUE;
        return FY_ERR_OK;
    }
    return FY_ERR_INTERNAL;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r')) {
        s[--n] = '\0';
    }
    return s;
}

static fy_err read_file(struct fy_config *cfg, const char *path, struct fy_errmsg *em)
{
    char line[2048];
    int lineno = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "cannot open config file %.200s", path);
    }
    fy_err e = FY_ERR_OK;
    while (!e && fgets(line, sizeof(line), f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#') {
            continue;
        }
        char *eq = strchr(s, '=');
        const struct opt *o = NULL;
        if (eq) {
            *eq = '\0';
            o = find_opt(trim(s));
        }
        if (!o) {
            e = fy_fail(em, FY_ERR_INVALID_REQUEST, "%.200s:%d: unknown setting", path, lineno);
        } else {
            e = set_opt(cfg, o, o->kind >= OPT_FLAG_TRUE ? "" : trim(eq + 1), em);
        }
    }
    fclose(f);
    return e;
}

static void usage(void)
{
    printf("usage: fleetyard-server [--config FILE] [--option VALUE]...\n\n");
    for (size_t i = 0; i < NOPTIONS; i++) {
        printf("  --%-24s %s\n", options[i].name, options[i].help);
    }
    printf("\nA config file holds the same options as `name = value` lines.\n"
           "Subcommands: fleetyard-server backup --out FILE | restore --from FILE "
           "(see backup --help).\n");
}

static fy_err validate(const struct fy_config *cfg, struct fy_errmsg *em)
{
    enum fy_log_level lvl;
    if (!fy_valid_account_id(cfg->site.account)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "account-id must be 12 digits");
    }
    if (!fy_valid_region(cfg->site.region)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "region must match [a-z0-9-]{1,32}");
    }
    if (fy_log_parse_level(cfg->log_level, &lvl) != 0) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "log-level must be error|warn|info|debug");
    }
    if (!cfg->ca_cert[0] != !cfg->ca_key[0]) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "ca-cert and ca-key go together");
    }
    if (cfg->threads < 1) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "threads must be at least 1");
    }
    enum api_affinity_mode mode;
    if (!fy_config_affinity(cfg, &mode)) {
        return fy_fail(em, FY_ERR_INVALID_REQUEST, "cpu-affinity must be auto|true|false");
    }
    return FY_ERR_OK;
}

static fy_err
apply_args(struct fy_config *cfg, int argc, char **argv, bool *exit_now, struct fy_errmsg *em)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            *exit_now = true;
            return FY_ERR_OK;
        }
        const struct opt *o = strncmp(a, "--", 2) == 0 ? find_opt(a + 2) : NULL;
        if (strcmp(a, "--config") == 0) {
            i++; /* already read */
            continue;
        }
        if (!o) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST, "unknown option %.64s (see --help)", a);
        }
        if (o->kind < OPT_FLAG_TRUE && i + 1 >= argc) {
            return fy_fail(em, FY_ERR_INVALID_REQUEST, "%s needs a value", a);
        }
        fy_err e = set_opt(cfg, o, o->kind < OPT_FLAG_TRUE ? argv[++i] : "", em);
        if (e) {
            return e;
        }
    }
    return FY_ERR_OK;
}

fy_err
fy_config_load(struct fy_config *cfg, int argc, char **argv, bool *exit_now, struct fy_errmsg *em)
{
    *exit_now = false;
    config_defaults(cfg);
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            fy_err e = read_file(cfg, argv[i + 1], em);
            if (e) {
                return e;
            }
        }
    }
    fy_err e = apply_args(cfg, argc, argv, exit_now, em);
    return e ? e : validate(cfg, em);
}
