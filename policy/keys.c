/* Context key names: AWS compares them case-insensitively, so known names are rewritten once at
 * compile time to the spelling the context lookups use. */
#include <string.h>
#include <strings.h>

#include "policy/policy_int.h"

/* Known spellings of the dot-separated parts of IoT and global context keys. */
static const char *const words[] = {
    "iot:ClientId",
    "iot:DomainName",
    "iot:ConnectAttributes",
    "iot:LastWillTopic",
    "iot:Connection",
    "iot:Certificate",
    "aws:SourceIp",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:SecureTransport",
    "aws:username",
    "aws:userid",
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalType",
    "aws:RequestedRegion",
    "Thing",
    "ThingName",
    "ThingTypeName",
    "IsAttached",
    "Attributes",
    "Subject",
    "Issuer",
    "AlternativeName",
    "DistinguishedNameQualifier",
    "Country",
    "Organization",
    "OrganizationalUnit",
    "State",
    "CommonName",
    "SerialNumber",
    "Title",
    "Surname",
    "GivenName",
    "Initials",
    "Pseudonym",
    "GenerationQualifier",
    "RFC822Name",
    "DNSName",
    "DirectoryName",
    "UniformResourceIdentifier",
    "IPAddress",
    "AvailableKeys",
    "List",
};

/* Rewrites s[0..len) to its known spelling, if any (same length, so in place). */
static void canonical_word(char *s, size_t len)
{
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strlen(words[i]) == len && strncasecmp(s, words[i], len) == 0) {
            memcpy(s, words[i], len);
            return;
        }
    }
}

void key_canonicalize(char *name)
{
    if (strncasecmp(name, "iot:", 4) != 0 && strncasecmp(name, "aws:", 4) != 0) {
        return;
    }
    char *s = name;
    for (;;) {
        size_t len = strcspn(s, ".[");
        canonical_word(s, len);
        if (s[len] != '.') {
            return; /* end, or an attribute name in [...] that keeps its case */
        }
        s += len + 1;
    }
}
