/* `fleetyard-server keys VERB ...`: operator access keys on the data dir's database.
 *
 *   create --name NAME [--description TEXT] [--policy-file FILE [--policy-name NAME]]
 *   list | get KEYID | disable KEYID | enable KEYID | rotate KEYID | delete KEYID
 *   attach-policy KEYID --policy-file FILE [--policy-name NAME] | detach-policy KEYID
 *   --policy-name NAME
 *
 * --data-dir DIR, --config FILE and --account-id ID (as for the server) may appear anywhere.
 * Every change is one short transaction; a running server sees it within a second. */
#include "server/keys.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/db.h"
#include "core/json.h"
#include "core/log.h"
#include "operators/operators.h"
#include "policy/policy.h"
#include "server/config.h"
#include "server/datadir.h"

#define KEYS_MAX_ARGS 16

struct keys_args {
    const char *verb;
    const char *key_id;
    const char *name;
    const char *description;
    const char *policy_file;
    const char *policy_name;
    char *cfg_argv[8]; /* "fleetyard-server" + the server options given */
    int cfg_argc;
};

static int usage(void)
{
    fprintf(stderr,
            "usage: fleetyard-server keys [--data-dir DIR] [--config FILE] VERB ...\n"
            "  create --name NAME [--description TEXT] [--policy-file FILE [--policy-name N]]\n"
            "  list\n"
            "  get KEYID\n"
            "  disable KEYID | enable KEYID\n"
            "  rotate KEYID            new secret, the old one stops working at once\n"
            "  attach-policy KEYID --policy-file FILE [--policy-name N]\n"
            "  detach-policy KEYID --policy-name N\n"
            "  delete KEYID\n"
            "Output is JSON (as the aws CLI prints); see README \"Operator access keys\".\n");
    return 2;
}

/* Stores an option's value; false for an unknown option or a missing value. */
static bool take_option(struct keys_args *a, const char *opt, char *value)
{
    static const char *const server_opts[] = {"--data-dir", "--config", "--account-id"};
    const char **slot = strcmp(opt, "--name") == 0          ? &a->name
                        : strcmp(opt, "--description") == 0 ? &a->description
                        : strcmp(opt, "--policy-file") == 0 ? &a->policy_file
                        : strcmp(opt, "--policy-name") == 0 ? &a->policy_name
                                                            : NULL;
    if (!value) {
        return false;
    }
    if (slot) {
        *slot = value;
        return true;
    }
    for (size_t i = 0; i < sizeof(server_opts) / sizeof(server_opts[0]); i++) {
        if (strcmp(opt, server_opts[i]) == 0 && a->cfg_argc + 2 <= 8) {
            a->cfg_argv[a->cfg_argc++] = (char *)server_opts[i];
            a->cfg_argv[a->cfg_argc++] = value;
            return true;
        }
    }
    return false;
}

static bool parse_args(struct keys_args *a, int argc, char **argv)
{
    memset(a, 0, sizeof(*a));
    a->cfg_argv[a->cfg_argc++] = "fleetyard-server";
    for (int i = 0; i < argc && argc <= KEYS_MAX_ARGS; i++) {
        if (strncmp(argv[i], "--", 2) == 0) {
            if (!take_option(a, argv[i], i + 1 < argc ? argv[i + 1] : NULL)) {
                fprintf(stderr, "fleetyard-server keys: unknown option or missing value: %.64s\n",
                        argv[i]);
                return false;
            }
            i++;
        } else if (!a->verb) {
            a->verb = argv[i];
        } else if (!a->key_id) {
            a->key_id = argv[i];
        } else {
            fprintf(stderr, "fleetyard-server keys: unexpected argument %.64s\n", argv[i]);
            return false;
        }
    }
    return a->verb && argc <= KEYS_MAX_ARGS;
}

/* Reads a policy document file ("-" = standard input) into a new string. */
static char *read_policy(const char *path, struct fy_errmsg *em)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = f ? fy_malloc(FY_POLICY_DOC_MAX_BYTES + 1) : NULL;
    size_t n = buf ? fread(buf, 1, FY_POLICY_DOC_MAX_BYTES + 1, f) : 0;
    if (f && f != stdin) {
        fclose(f);
    }
    if (!buf || n > FY_POLICY_DOC_MAX_BYTES) {
        fy_free(buf);
        fy_errf(em, "cannot read policy file %.200s%s", path,
                n > FY_POLICY_DOC_MAX_BYTES ? " (too large)" : "");
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* The policy's name: --policy-name, else the file's base name without ".json". */
static void policy_name_of(const struct keys_args *a, char *buf, size_t n)
{
    const char *base = a->policy_name;
    size_t len;
    if (!base) {
        const char *slash = strrchr(a->policy_file, '/');
        base = slash ? slash + 1 : a->policy_file;
        len = strlen(base);
        len -= len > 5 && strcmp(base + len - 5, ".json") == 0 ? 5 : 0;
    } else {
        len = strlen(base);
    }
    snprintf(buf, n, "%.*s", (int)(len < n ? len : n - 1), base);
}

/* What a verb works with: the parsed arguments and the policy file's name and text. */
struct verb_in {
    const struct keys_args *a;
    const char *pname; /* "" without --policy-file */
    const char *doc;   /* NULL without --policy-file */
};

static fy_err
v_create(struct fy_db *db, const struct verb_in *in, json_t **out, struct fy_errmsg *em)
{
    return fy_operator_create(db, in->a->name, in->a->description, in->pname, in->doc, out, em);
}

static fy_err v_list(struct fy_db *db, const struct verb_in *in, json_t **out, struct fy_errmsg *em)
{
    (void)in;
    return fy_operator_list(db, out, em);
}

static fy_err v_get(struct fy_db *db, const struct verb_in *in, json_t **out, struct fy_errmsg *em)
{
    return fy_operator_get(db, in->a->key_id, out, em);
}

static fy_err
v_enable(struct fy_db *db, const struct verb_in *in, json_t **out, struct fy_errmsg *em)
{
    return fy_operator_set_status(db, in->a->key_id, true, out, em);
}

static fy_err
v_disable(struct fy_db *db, const struct verb_in *in, json_t **out, struct fy_errmsg *em)
{
    return fy_operator_set_status(db, in->a->key_id, false, out, em);
}

static fy_err
v_rotate(struct fy_db *db, const struct verb_in *in, json_t **out, struct fy_errmsg *em)
{
    return fy_operator_rotate(db, in->a->key_id, out, em);
}

static fy_err
v_attach(struct fy_db *db, const struct verb_in *in, json_t **out, struct fy_errmsg *em)
{
    fy_err e = in->doc ? fy_operator_put_policy(db, in->a->key_id, in->pname, in->doc, em)
                       : fy_fail(em, FY_ERR_INVALID_REQUEST, "attach-policy needs --policy-file");
    return e ? e : fy_operator_get(db, in->a->key_id, out, em);
}

static fy_err
v_detach(struct fy_db *db, const struct verb_in *in, json_t **out, struct fy_errmsg *em)
{
    const char *name = in->a->policy_name;
    fy_err e = name ? fy_operator_delete_policy(db, in->a->key_id, name, em)
                    : fy_fail(em, FY_ERR_INVALID_REQUEST, "detach-policy needs --policy-name");
    return e ? e : fy_operator_get(db, in->a->key_id, out, em);
}

static fy_err
v_delete(struct fy_db *db, const struct verb_in *in, json_t **out, struct fy_errmsg *em)
{
    (void)out;
    return fy_operator_delete(db, in->a->key_id, em);
}

struct verb {
    const char *name;
    bool needs_key;
    fy_err (*fn)(struct fy_db *db, const struct verb_in *in, json_t **out, struct fy_errmsg *em);
};

static const struct verb verbs[] = {
    {"create", false, v_create},
    {"list", false, v_list},
    {"get", true, v_get},
    {"enable", true, v_enable},
    {"disable", true, v_disable},
    {"rotate", true, v_rotate},
    {"attach-policy", true, v_attach},
    {"detach-policy", true, v_detach},
    {"delete", true, v_delete},
};

static const struct verb *find_verb(const char *name)
{
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (strcmp(name, verbs[i].name) == 0) {
            return &verbs[i];
        }
    }
    return NULL;
}

/* Runs verb v on db; *out gets the JSON to print (NULL for none). */
static fy_err run_verb(struct fy_db *db,
                       const struct verb *v,
                       const struct keys_args *a,
                       json_t **out,
                       struct fy_errmsg *em)
{
    char pname[256] = "";
    struct verb_in in = {a, pname, NULL};
    char *doc = NULL;
    *out = NULL;
    if (a->policy_file) {
        policy_name_of(a, pname, sizeof(pname));
        doc = read_policy(a->policy_file, em);
        if (!doc) {
            return FY_ERR_INVALID_REQUEST;
        }
    }
    in.doc = doc;
    fy_err e = v->fn(db, &in, out, em);
    fy_free(doc);
    return e;
}

/* Opens (creating and migrating if needed) the data dir's database and runs the verb. */
static fy_err
run(const struct verb *v, const struct keys_args *a, json_t **out, struct fy_errmsg *em)
{
    struct fy_config cfg;
    bool exit_now = false;
    char db_path[FY_PATH_MAX + 32];
    struct fy_db *db = NULL;
    fy_err e = fy_config_load(&cfg, a->cfg_argc, (char **)a->cfg_argv, &exit_now, em);
    e = e ? e : fy_datadir_prepare(&cfg, em);
    fy_datadir_path(&cfg, "fleetyard.db", db_path, sizeof(db_path));
    e = e ? e : fy_db_open(db_path, &db, em);
    e = e ? e : fy_db_migrate(db, em);
    e = e ? e : run_verb(db, v, a, out, em);
    fy_db_close(db);
    return e;
}

int fy_keys_main(int argc, char **argv)
{
    struct keys_args a;
    struct fy_errmsg em = {""};
    json_t *j_out = NULL;
    fy_log_threshold = FY_LOG_WARN; /* stdout is the JSON answer; stderr only for trouble */
    if (!parse_args(&a, argc, argv) || strcmp(a.verb, "help") == 0) {
        return usage();
    }
    const struct verb *v = find_verb(a.verb);
    fy_err e = FY_ERR_INVALID_REQUEST;
    if (!v) {
        fy_errf(&em, "unknown verb %.32s (see keys help)", a.verb);
    } else if (v->needs_key && !a.key_id) {
        fy_errf(&em, "%s needs a KEYID", a.verb);
    } else {
        e = run(v, &a, &j_out, &em);
    }
    if (e) {
        fprintf(stderr, "fleetyard-server keys %s: %s: %s\n", a.verb,
                fy_err_type(e) ? fy_err_type(e) : "Error", em.msg);
        return e == FY_ERR_INVALID_REQUEST && !em.msg[0] ? 2 : 1;
    }
    char *text = j_out ? json_dumps(j_out, JSON_INDENT(4) | JSON_PRESERVE_ORDER) : NULL;
    if (text) {
        printf("%s\n", text);
    }
    fy_free(text);
    json_decref(j_out);
    return 0;
}
