/* fleetyard core: the one error table.
 *
 * Every fallible function returns an fy_err. Each row of FY_ERR_LIST gives the code, the HTTP
 * status it renders as and the AWS exception name (x-amzn-ErrorType). Human detail travels
 * separately in a caller-owned struct fy_errmsg filled by fy_errf()/fy_fail(); never compare
 * message strings.
 */
#ifndef FY_CORE_ERR_H
#define FY_CORE_ERR_H

#include <stddef.h>

#define FY_NODISCARD    __attribute__((warn_unused_result))
#define FY_PRINTF(a, b) __attribute__((format(printf, a, b)))

#define FY_ERR_LIST(X)                                                   \
    X(OK, 200, NULL)                                                     \
    X(INVALID_REQUEST, 400, "InvalidRequestException")                   \
    X(MALFORMED_POLICY, 400, "MalformedPolicyException")                 \
    X(INVALID_QUERY, 400, "InvalidQueryException")                       \
    X(INVALID_AGGREGATION, 400, "InvalidAggregationException")           \
    X(INDEX_NOT_READY, 400, "IndexNotReadyException")                    \
    X(CERT_VALIDATION, 400, "CertificateValidationException")            \
    X(REG_CODE_VALIDATION, 400, "RegistrationCodeValidationException")   \
    X(THROTTLED, 400, "ThrottlingException")                             \
    X(SERIALIZATION, 400, "SerializationException")                      \
    X(UNAUTHORIZED, 401, "UnauthorizedException")                        \
    X(MISSING_AUTH, 403, "MissingAuthenticationTokenException")          \
    X(INVALID_SIGNATURE, 403, "InvalidSignatureException")               \
    X(UNRECOGNIZED_CLIENT, 403, "UnrecognizedClientException")           \
    X(FORBIDDEN, 403, "ForbiddenException")                              \
    X(ACCESS_DENIED, 403, "AccessDeniedException")                       \
    X(NOT_FOUND, 404, "ResourceNotFoundException")                       \
    X(NOT_CONFIGURED, 404, "NotConfiguredException")                     \
    X(UNKNOWN_OPERATION, 404, "UnknownOperationException")               \
    X(METHOD_NOT_ALLOWED, 405, "MethodNotAllowedException")              \
    X(CERT_STATE, 406, "CertificateStateException")                      \
    X(ALREADY_EXISTS, 409, "ResourceAlreadyExistsException")             \
    X(VERSION_CONFLICT, 409, "VersionConflictException")                 \
    X(CONFLICT, 409, "ConflictException")                                \
    X(DELETE_CONFLICT, 409, "DeleteConflictException")                   \
    X(VERSIONS_LIMIT, 409, "VersionsLimitExceededException")             \
    X(INVALID_STATE_TRANSITION, 409, "InvalidStateTransitionException")  \
    X(CERT_CONFLICT, 409, "CertificateConflictException")                \
    X(LIMIT_EXCEEDED, 410, "LimitExceededException")                     \
    X(TERMINAL_STATE, 410, "TerminalStateException")                     \
    X(PAYLOAD_TOO_LARGE, 413, "RequestEntityTooLargeException")          \
    X(UNSUPPORTED_ENCODING, 415, "UnsupportedDocumentEncodingException") \
    X(NOMEM, 500, "InternalFailureException")                            \
    X(INTERNAL, 500, "InternalFailureException")                         \
    X(UNAVAILABLE, 503, "ServiceUnavailableException")

#define FY_ERR_ENUM_ROW(name, status, type) FY_ERR_##name,
typedef enum fy_err { FY_ERR_LIST(FY_ERR_ENUM_ROW) FY_ERR__COUNT } fy_err;
#undef FY_ERR_ENUM_ROW

/* Caller-owned human detail for an error. Text is truncated to fit, control characters are
 * replaced by '?'. */
#define FY_ERRMSG_MAX 512
struct fy_errmsg {
    char msg[FY_ERRMSG_MAX];
};

/* HTTP status of an error code (500 for out-of-range codes). */
int fy_err_status(fy_err e);

/* AWS exception name of an error code (NULL for FY_ERR_OK). */
const char *fy_err_type(fy_err e);

/* Short symbolic name ("NOT_FOUND") for logs and tests. */
const char *fy_err_name(fy_err e);

/* Formats a message into em (em may be NULL). */
void fy_errf(struct fy_errmsg *em, const char *fmt, ...) FY_PRINTF(2, 3);

/* Formats a message into em and returns code, so callers can write
 * `return fy_fail(em, FY_ERR_NOT_FOUND, "Thing %.128s cannot be found", name);`. */
fy_err fy_fail(struct fy_errmsg *em, fy_err code, const char *fmt, ...) FY_PRINTF(3, 4);

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), or 0 when the bytes there are not one (a NUL byte ends s). */
size_t fy_utf8_seq(const unsigned char *s);

#endif
