/* fleetyard broker plugin: CONNECT authentication (MOSQ_EVT_BASIC_AUTH).
 *
 * The identity of a device is its TLS client certificate (mosquitto has already verified the
 * chain against the listener's cafile); the MQTT username and password are ignored (the AWS
 * IoT Device SDK sends `?SDK=...` as the username). The certificate must be registered and
 * ACTIVE, and its CA, when it was registered under one, ACTIVE too; then iot:Connect on
 * client/<clientId> must be allowed by the connection's policies.
 */
#include <stdio.h>
#include <string.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "broker_plugin/iotlog.h"
#include "broker_plugin/plugin_int.h"
#include "core/codec.h"
#include "core/log.h"
#include "registry/certs.h"

#define ARN_MAX 512

/* The certificate id of the client's TLS certificate (SHA-256 of its DER, as AWS computes
 * it). No certificate -> UNAUTHORIZED. */
static fy_err
client_cert_id(struct mosquitto *client, char out[FY_PLUGIN_CERT_ID_LEN + 1], struct fy_errmsg *em)
{
    X509 *x = mosquitto_client_certificate(client);
    if (!x) {
        return fy_fail(em, FY_ERR_UNAUTHORIZED, "no client certificate");
    }
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    X509_free(x);
    if (len <= 0) {
        return fy_fail(em, FY_ERR_NOMEM, "cannot encode the client certificate");
    }
    fy_sha256_hex(der, (size_t)len, out);
    OPENSSL_free(der);
    return FY_ERR_OK;
}

/* The certificate must be registered and ACTIVE, and its CA (when set) ACTIVE. */
static fy_err check_registered(struct fy_plugin *p, const char *cert_id, struct fy_errmsg *em)
{
    struct fy_cert_row row, ca;
    memset(&row, 0, sizeof(row));
    memset(&ca, 0, sizeof(ca));
    fy_err e = fy_cert_get(p->db, cert_id, &row, em);
    if (e == FY_ERR_NOT_FOUND) {
        e = fy_fail(em, FY_ERR_UNAUTHORIZED, "certificate is not registered");
    } else if (!e && strcmp(row.status, "ACTIVE") != 0) {
        e = fy_fail(em, FY_ERR_UNAUTHORIZED, "certificate is %.24s", row.status);
    } else if (!e && row.ca_cert_id[0]) {
        e = fy_ca_get(p->db, row.ca_cert_id, &ca, em);
        if (e == FY_ERR_NOT_FOUND) {
            e = fy_fail(em, FY_ERR_UNAUTHORIZED, "CA certificate is not registered");
        } else if (!e && strcmp(ca.status, "ACTIVE") != 0) {
            e = fy_fail(em, FY_ERR_UNAUTHORIZED, "CA certificate is %.24s", ca.status);
        }
    }
    fy_cert_row_clear(&row);
    fy_cert_row_clear(&ca);
    return e;
}

/* iot:Connect on client/<clientId>. */
static fy_err check_connect(struct fy_plugin *p,
                            const struct fy_authz *authz,
                            const char *client_id,
                            struct fy_errmsg *em)
{
    char arn[ARN_MAX];
    if (fy_arn_fmt(arn, sizeof(arn), &p->site, "client", client_id) >= sizeof(arn)) {
        return fy_fail(em, FY_ERR_UNAUTHORIZED, "client id too long");
    }
    if (!fy_authz_allows(authz, "iot:Connect", arn)) {
        return fy_fail(em, FY_ERR_UNAUTHORIZED, "iot:Connect denied on %.300s", arn);
    }
    return FY_ERR_OK;
}

/* Authenticates and authorizes one CONNECT; on success the connection is in the table.
 * cert_id receives the certificate id as soon as it is known ("-" before). */
static fy_err admit(struct fy_plugin *p,
                    struct mosquitto *client,
                    const char *client_id,
                    char cert_id[FY_PLUGIN_CERT_ID_LEN + 1],
                    struct fy_errmsg *em)
{
    struct fy_authz *authz = NULL;
    fy_err e = client_cert_id(client, cert_id, em);
    if (!e) {
        e = check_registered(p, cert_id, em);
    }
    if (!e) {
        struct fy_authz_subject who = {cert_id, client_id, mosquitto_client_address(client),
                                       !mosquitto_client_clean_session(client)};
        e = fy_authz_load(p, &who, &authz, em);
    }
    if (!e) {
        e = check_connect(p, authz, client_id, em);
    }
    if (!e) {
        e = fy_conns_add(&p->conns, client, cert_id, client_id, authz);
    }
    if (e) {
        fy_authz_free(authz);
    } else {
        fy_presence_connected(p, fy_conns_get(&p->conns, client), mosquitto_client_address(client));
    }
    return e;
}

/* The server's internal link: no TLS certificate (the unix-socket listener), the link's client
 * id and username, and the per-start secret as password (compared in constant time). */
static bool is_link(const struct fy_plugin *p, const struct mosquitto_evt_basic_auth *ed)
{
    X509 *x = mosquitto_client_certificate(ed->client);
    if (x) {
        X509_free(x);
        return false;
    }
    size_t n = strlen(p->link_secret);
    return n > 0 && ed->username && strcmp(ed->username, FY_LINK_CLIENT_ID) == 0 && ed->password &&
           strlen(ed->password) == n && CRYPTO_memcmp(ed->password, p->link_secret, n) == 0;
}

/* Admits the internal link (client id FY_LINK_CLIENT_ID) or refuses a '$' client id. */
static int admit_reserved_id(struct fy_plugin *p,
                             const struct mosquitto_evt_basic_auth *ed,
                             const char *client_id)
{
    if (strcmp(client_id, FY_LINK_CLIENT_ID) != 0 || !is_link(p, ed)) {
        fy_log(FY_LOG_WARN, "auth",
               "refused client %.128s from %s: client ids starting with '$' "
               "are reserved",
               client_id, mosquitto_client_address(ed->client));
        return MOSQ_ERR_AUTH;
    }
    if (fy_conns_add(&p->conns, ed->client, "-", client_id, NULL) != FY_ERR_OK) {
        return MOSQ_ERR_NOMEM;
    }
    fy_conns_get(&p->conns, ed->client)->link = true;
    fy_log(FY_LOG_INFO, "auth", "internal link connected");
    return MOSQ_ERR_SUCCESS;
}

static int basic_auth(struct fy_plugin *p, struct mosquitto_evt_basic_auth *ed)
{
    struct fy_errmsg em = {""};
    char cert_id[FY_PLUGIN_CERT_ID_LEN + 1] = "-";
    const char *client_id = mosquitto_client_id(ed->client);
    if (!client_id || strlen(client_id) > FY_PLUGIN_CLIENT_ID_MAX) {
        fy_log(FY_LOG_WARN, "auth", "refused connection from %s: client id missing or too long",
               mosquitto_client_address(ed->client));
        return MOSQ_ERR_AUTH;
    }
    fy_conns_flush(&p->conns); /* before a freed client's pointer can be admitted again */
    if (client_id[0] == '$') {
        return admit_reserved_id(p, ed, client_id);
    }
    fy_conns_drop_offline(&p->conns, client_id); /* this connection takes the session over */
    fy_err e = admit(p, ed->client, client_id, cert_id, &em);
    fy_iotlog_connect(p, ed->client, client_id, cert_id, e);
    if (e) {
        fy_log(FY_LOG_WARN, "auth", "refused client %.128s from %s (certificate %s): %s", client_id,
               mosquitto_client_address(ed->client), cert_id, em.msg);
        return MOSQ_ERR_AUTH;
    }
    fy_log(FY_LOG_INFO, "auth", "client %.128s connected with certificate %s", client_id, cert_id);
    return MOSQ_ERR_SUCCESS;
}

/* Counts every CONNECT: admitted, or refused (an authorization denial of iot:Connect). */
int fy_plugin_on_basic_auth(int event, void *event_data, void *userdata)
{
    struct fy_plugin *p = userdata;
    (void)event;
    struct mosquitto_evt_basic_auth *ed = event_data;
    int rc = basic_auth(p, ed);
    const struct fy_conn *c = rc == MOSQ_ERR_SUCCESS ? fy_conns_get(&p->conns, ed->client) : NULL;
    if (rc == MOSQ_ERR_AUTH) {
        fy_bstat_inc(p, FY_BSTAT_DENY_CONNECT);
    } else if (c && !c->link) {
        fy_bstat_inc(p, FY_BSTAT_CONNECTS);
    }
    return rc;
}

fy_err fy_auth_recheck(struct fy_plugin *p, struct fy_conn *c, struct fy_errmsg *em)
{
    struct fy_authz *authz = NULL;
    fy_err e = check_registered(p, c->cert_id, em);
    if (!e) {
        e = fy_authz_reload(p, c->authz, c->cert_id, c->client_id, &authz, em);
    }
    if (!e) {
        e = check_connect(p, authz, c->client_id, em);
    }
    if (e) {
        fy_authz_free(authz);
        return e;
    }
    fy_authz_free(c->authz);
    c->authz = authz;
    return FY_ERR_OK;
}
