/* Component test: the broker plugin's connection identity (which thing a connection is
 * associated with, AWS rules 1-3) and policy variable values, on a migrated temporary
 * database with certificates issued by a temporary CA. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_plugin/identity.c"
#include "core/json.h"
#include "registry/certs.h"
#include "registry/principals.h"
#include "tests/unit/tap.h"

static struct fy_plugin plugin = {.site = {"us-east-1", "123456789012"}};

/* Issues a certificate, stores it ACTIVE and parses it; *out owned by the caller. */
static void issue(const struct fy_pki_ca *ca, struct fy_pki_cert **out)
{
    struct fy_pki_issued is;
    struct fy_cert_row row;
    struct fy_errmsg em = {""};
    memset(&is, 0, sizeof(is));
    memset(&row, 0, sizeof(row));
    fy_err e = fy_pki_create_keys_and_cert(ca, &is, &em);
    if (!e) {
        snprintf(row.cert_id, sizeof(row.cert_id), "%s", is.cert_id);
        snprintf(row.status, sizeof(row.status), "ACTIVE");
        snprintf(row.mode, sizeof(row.mode), "DEFAULT");
        snprintf(row.owned_by, sizeof(row.owned_by), "123456789012");
        row.pem = is.cert_pem;
        e = fy_cert_insert(plugin.db, &row, &em);
    }
    if (!e) {
        e = fy_pki_cert_parse(is.cert_pem, strlen(is.cert_pem), out, &em);
    }
    ok(!e, "certificate issued and stored: %s", em.msg);
    fy_pki_issued_clear(&is);
}

static void thing(const char *name, const char *attr_value)
{
    struct fy_errmsg em = {""};
    struct fy_thing_created out;
    json_t *j = json_pack("{s:s}", "location", attr_value);
    struct fy_thing_spec spec = {name, NULL, j, NULL};
    ok(fy_thing_create(plugin.db, &plugin.site, &spec, &out, &em) == FY_ERR_OK, "thing %s: %s",
       name, em.msg);
    json_decref(j);
}

static void attach(const char *thing_name, const struct fy_pki_cert *c, const char *type)
{
    char arn[FY_REG_ARN_MAX];
    struct fy_errmsg em = {""};
    fy_arn_fmt(arn, sizeof(arn), &plugin.site, "cert", fy_pki_cert_id_get(c));
    ok(fy_principal_attach(plugin.db, thing_name, arn, type, &em) == FY_ERR_OK, "attach %s: %s",
       thing_name, em.msg);
}

/* Resolves the identity of client_id with certificate c and checks variable name's value
 * (want NULL = unresolved). */
static void
expect(const struct fy_pki_cert *c, const char *client_id, const char *name, const char *want)
{
    struct fy_authz_subject who = {fy_pki_cert_id_get(c), client_id, c, "10.0.0.7"};
    struct fy_identity id;
    struct fy_errmsg em = {""};
    fy_err e = fy_identity_resolve(&plugin, &who, &id, &em);
    const char *got = e ? "(error)" : fy_identity_var(&id, name);
    ok(want ? got && strcmp(got, want) == 0 : got == NULL, "%s as %s: %s = %s (want %s)",
       fy_pki_cert_id_get(c), client_id, name, got ? got : "NULL", want ? want : "NULL");
    fy_identity_clear(&id);
}

static void test_association(const struct fy_pki_cert *c1, const struct fy_pki_cert *c2)
{
    /* rule 1: the client id names a thing the certificate is attached to */
    expect(c1, "dev-1", "iot:Connection.Thing.ThingName", "dev-1");
    expect(c1, "dev-1", "iot:Connection.Thing.IsAttached", "true");
    expect(c1, "dev-1", "iot:Connection.Thing.Attributes[location]", "A");
    expect(c1, "dev-1", "iot:Connection.Thing.Attributes[missing]", NULL);
    expect(c1, "dev-1", "iot:Connection.Thing.ThingTypeName", NULL);
    expect(c1, "dev-3", "iot:Connection.Thing.ThingName", "dev-3");
    /* rule 3: a thing the certificate is not attached to, or no thing at all */
    expect(c1, "dev-2", "iot:Connection.Thing.ThingName", NULL);
    expect(c1, "dev-2", "iot:Connection.Thing.IsAttached", "false");
    expect(c1, "nothing", "iot:Connection.Thing.ThingName", NULL);
    /* rule 2: an exclusive attachment names the thing whatever the client id */
    expect(c2, "anything", "iot:Connection.Thing.ThingName", "ex-1");
    expect(c2, "anything", "iot:Connection.Thing.IsAttached", "true");
    expect(c2, "dev-1", "iot:Connection.Thing.ThingName", "ex-1");
}

static void test_values(const struct fy_pki_cert *c1)
{
    expect(c1, "dev-1", "iot:ClientId", "dev-1");
    expect(c1, "dev-1", "aws:SourceIp", "10.0.0.7");
    expect(c1, "dev-1", "iot:Certificate.Subject.CommonName", "AWS IoT Certificate");
    expect(c1, "dev-1", "iot:Certificate.Subject.CommonName.1", NULL);
    expect(c1, "dev-1", "iot:Certificate.Issuer.CommonName", "fleetyard Root CA");
    expect(c1, "dev-1", "iot:Certificate.Issuer.CommonName.0", "fleetyard Root CA");
    expect(c1, "dev-1", "iot:Certificate.SerialNumber", fy_pki_cert_serial_get(c1));
    expect(c1, "dev-1", "iot:Certificate.Subject.Nope", NULL);
    expect(c1, "dev-1", "iot:Nope", NULL);
    expect(c1, "dev-1", "iot:Connection.Thing.Attributes[location", NULL);
    /* values AWS does not substitute */
    expect(c1, "dev-3", "iot:Connection.Thing.Attributes[location]", NULL); /* has '#' */
    expect(c1, "dev+1", "iot:ClientId", NULL);
}

int main(void)
{
    char path[] = "/tmp/fy-test-identity-XXXXXX", dir[] = "/tmp/fy-test-identity-ca-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    struct fy_errmsg em = {""};
    struct fy_pki_ca *ca = NULL;
    struct fy_pki_cert *c1 = NULL, *c2 = NULL;
    fy_json_init();
    fy_log_threshold = FY_LOG_ERROR;
    struct fy_pki_ca_opts opts = {NULL, NULL, NULL, 0, FY_PKI_KEY_EC_P256};
    if (!ok(mkdtemp(dir) && fy_pki_ensure_ca(dir, &opts, &ca, &em) == FY_ERR_OK &&
                fy_db_open(path, &plugin.db, &em) == FY_ERR_OK &&
                fy_db_migrate(plugin.db, &em) == FY_ERR_OK,
            "CA, open and migrate: %s", em.msg)) {
        return done();
    }
    issue(ca, &c1);
    issue(ca, &c2);
    thing("dev-1", "A");
    thing("dev-2", "B");
    thing("dev-3", "a#b");
    thing("ex-1", "C");
    attach("dev-1", c1, NULL);
    attach("dev-3", c1, NULL);
    attach("ex-1", c2, FY_PRINCIPAL_EXCLUSIVE);
    test_association(c1, c2);
    test_values(c1);
    fy_pki_cert_free(c1);
    fy_pki_cert_free(c2);
    fy_pki_ca_free(ca);
    fy_db_close(plugin.db);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf %s %s %s-wal %s-shm", dir, path, path, path);
    ok(system(cmd) == 0, "clean up");
    return done();
}
