/* fleetyard core: byte codecs and identifiers (hex, base64url, SHA-256, UUIDs). Thread-safe, no
 * allocation unless stated. */
#ifndef FY_CORE_CODEC_H
#define FY_CORE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define FY_SHA256_LEN 32
#define FY_UUID_LEN   36

/* Lowercase hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void fy_hex(const unsigned char *in, size_t n, char *out);

/* SHA-256 of data as lowercase hex into out[65]. */
void fy_sha256_hex(const void *data, size_t len, char out[2 * FY_SHA256_LEN + 1]);

/* AWS Signature Version 4: the hex signature of string_to_sign with the key derived from
 * secret, date (YYYYMMDD), region and service (HMAC-SHA256 chain "AWS4"+secret, date, region,
 * service, "aws4_request") into out[65]. Intermediate keys are wiped. */
void fy_aws4_signature(const char *secret,
                       const char *date,
                       const char *region,
                       const char *service,
                       const char *string_to_sign,
                       char out[2 * FY_SHA256_LEN + 1]);

/* Random version-4 UUID text into out[37]. Returns FY_ERR_INTERNAL if the RNG fails. The bytes
 * come from a per-thread block of FY_UUID_BLOCK bytes of fy_random_bytes output. */
#define FY_UUID_BLOCK 512
FY_NODISCARD fy_err fy_uuid4(char out[FY_UUID_LEN + 1]);

/* n bytes from the system's CSPRNG (OpenSSL). FY_ERR_INTERNAL if it fails. */
FY_NODISCARD fy_err fy_random_bytes(void *out, size_t n);

/* 16 random bytes as version-4 UUID text into out[37] (sets b's version and variant bits). */
void fy_uuid_format(unsigned char b[16], char out[FY_UUID_LEN + 1]);

/* Unpadded base64url of n bytes into a new string (caller frees with fy_free); NULL on OOM. */
char *fy_b64url_new(const void *in, size_t n);

/* Decodes unpadded base64url into a new NUL-terminated buffer; *outlen gets the byte count.
 * Returns NULL on bad input or OOM. */
char *fy_b64url_decode_new(const char *in, size_t *outlen);

/* Standard base64 (padded) encode into a new string; NULL on OOM. */
char *fy_b64_new(const void *in, size_t n);

/* Standard base64 decode into a new buffer; NULL on bad input or OOM. */
unsigned char *fy_b64_decode_new(const char *in, size_t *outlen);

#endif
