#include "core/codec.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "core/alloc.h"

void fy_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void fy_sha256_hex(const void *data, size_t len, char out[2 * FY_SHA256_LEN + 1])
{
    unsigned char md[FY_SHA256_LEN];
    SHA256(data, len, md);
    fy_hex(md, sizeof(md), out);
}

fy_err fy_random_bytes(void *out, size_t n)
{
    return RAND_bytes(out, (int)n) == 1 ? FY_ERR_OK : FY_ERR_INTERNAL;
}

/* UUIDs (request ids, resource ids: unique, not secret) come from a per-thread block of
 * CSPRNG output: one RAND_bytes call (~3 us, its DRBG locks) per FY_UUID_BLOCK / 16 UUIDs.
 * Each byte is handed out once. Nothing here survives into a forked child that would use it:
 * the server's only fork execs mosquitto at once. */
static _Thread_local unsigned char uuid_block[FY_UUID_BLOCK];
static _Thread_local size_t uuid_used = FY_UUID_BLOCK;

fy_err fy_uuid4(char out[FY_UUID_LEN + 1])
{
    unsigned char b[16];
    if (uuid_used + sizeof(b) > sizeof(uuid_block)) {
        if (fy_random_bytes(uuid_block, sizeof(uuid_block)) != FY_ERR_OK) {
            return FY_ERR_INTERNAL;
        }
        uuid_used = 0;
    }
    memcpy(b, uuid_block + uuid_used, sizeof(b));
    memset(uuid_block + uuid_used, 0, sizeof(b));
    uuid_used += sizeof(b);
    fy_uuid_format(b, out);
    return FY_ERR_OK;
}

void fy_uuid_format(unsigned char b[16], char out[FY_UUID_LEN + 1])
{
    char h[33];
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    fy_hex(b, 16, h);
    memcpy(out, h, 8);
    out[8] = '-';
    memcpy(out + 9, h + 8, 4);
    out[13] = '-';
    memcpy(out + 14, h + 12, 4);
    out[18] = '-';
    memcpy(out + 19, h + 16, 4);
    out[23] = '-';
    memcpy(out + 24, h + 20, 12);
    out[36] = '\0';
}

char *fy_b64_new(const void *in, size_t n)
{
    char *out = fy_malloc(4 * ((n + 2) / 3) + 1);
    if (!out) {
        return NULL;
    }
    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    return out;
}

unsigned char *fy_b64_decode_new(const char *in, size_t *outlen)
{
    size_t len = strlen(in);
    if (len % 4 != 0) {
        return NULL;
    }
    unsigned char *out = fy_malloc(len / 4 * 3 + 1);
    if (!out) {
        return NULL;
    }
    int n = len ? EVP_DecodeBlock(out, (const unsigned char *)in, (int)len) : 0;
    if (n < 0) {
        fy_free(out);
        return NULL;
    }
    size_t pad = 0;
    while (pad < 2 && len > pad && in[len - 1 - pad] == '=') {
        pad++;
    }
    *outlen = (size_t)n - pad;
    out[*outlen] = '\0';
    return out;
}

char *fy_b64url_new(const void *in, size_t n)
{
    char *s = fy_b64_new(in, n);
    if (!s) {
        return NULL;
    }
    char *p = s;
    for (; *p && *p != '='; p++) {
        if (*p == '+') {
            *p = '-';
        } else if (*p == '/') {
            *p = '_';
        }
    }
    *p = '\0';
    return s;
}

char *fy_b64url_decode_new(const char *in, size_t *outlen)
{
    size_t len = strlen(in);
    char *tmp = fy_malloc(len + 4);
    if (!tmp) {
        return NULL;
    }
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '-') {
            c = '+';
        } else if (c == '_') {
            c = '/';
        } else if (c == '+' || c == '/' || c == '=') {
            fy_free(tmp);
            return NULL;
        }
        tmp[i] = c;
    }
    size_t padded = len;
    while (padded % 4) {
        tmp[padded++] = '=';
    }
    tmp[padded] = '\0';
    unsigned char *out = fy_b64_decode_new(tmp, outlen);
    fy_free(tmp);
    return (char *)out;
}

static void hmac256(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
    unsigned int len = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &len);
}

void fy_aws4_signature(const char *secret,
                       const char *date,
                       const char *region,
                       const char *service,
                       const char *string_to_sign,
                       char out[2 * FY_SHA256_LEN + 1])
{
    char k0[256];
    unsigned char k[32], sig[32];
    snprintf(k0, sizeof(k0), "AWS4%s", secret);
    hmac256(k0, strlen(k0), date, k);
    hmac256(k, 32, region, k);
    hmac256(k, 32, service, k);
    hmac256(k, 32, "aws4_request", k);
    hmac256(k, 32, string_to_sign, sig);
    fy_hex(sig, 32, out);
    OPENSSL_cleanse(k0, sizeof(k0));
    OPENSSL_cleanse(k, sizeof(k));
}
