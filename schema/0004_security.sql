-- Certificates, CA certificates, thing principals, IoT policies and their attachments.
CREATE TABLE ca_certificates (
    id INTEGER PRIMARY KEY,
    cert_id TEXT NOT NULL UNIQUE,           -- lowercase hex SHA-256 of the DER
    pem TEXT NOT NULL,
    status TEXT NOT NULL,                   -- ACTIVE | INACTIVE
    auto_registration TEXT NOT NULL DEFAULT 'DISABLE',
    registration_config TEXT,               -- JSON
    mode TEXT NOT NULL DEFAULT 'DEFAULT',   -- DEFAULT | SNI_ONLY
    owned_by TEXT NOT NULL,
    customer_version INTEGER NOT NULL DEFAULT 1,
    generation_id TEXT NOT NULL,
    not_before REAL,
    not_after REAL,
    creation_date REAL NOT NULL,
    last_modified REAL NOT NULL
);

CREATE TABLE certificates (
    id INTEGER PRIMARY KEY,
    cert_id TEXT NOT NULL UNIQUE,           -- lowercase hex SHA-256 of the DER
    pem TEXT NOT NULL,
    status TEXT NOT NULL,                   -- ACTIVE | INACTIVE | REVOKED | PENDING_TRANSFER | ...
    ca_cert_id TEXT,                        -- registered CA (ca_certificates.cert_id) or NULL
    mode TEXT NOT NULL DEFAULT 'DEFAULT',
    owned_by TEXT NOT NULL,
    customer_version INTEGER NOT NULL DEFAULT 1,
    generation_id TEXT NOT NULL,
    not_before REAL,
    not_after REAL,
    creation_date REAL NOT NULL,
    last_modified REAL NOT NULL
);
CREATE INDEX certificates_ca ON certificates(ca_cert_id);

CREATE TABLE thing_principals (
    thing INTEGER NOT NULL REFERENCES things(id),
    principal TEXT NOT NULL,                -- principal ARN (certificate ARN, ...)
    type TEXT NOT NULL DEFAULT 'NON_EXCLUSIVE_THING',
    attached REAL NOT NULL,
    PRIMARY KEY (thing, principal)
) WITHOUT ROWID;
CREATE INDEX thing_principals_principal ON thing_principals(principal, thing);

CREATE TABLE policies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    default_version INTEGER NOT NULL,
    next_version INTEGER NOT NULL,          -- policyVersionId of the next CreatePolicyVersion
    generation_id TEXT NOT NULL,
    creation_date REAL NOT NULL,
    last_modified REAL NOT NULL
);

CREATE TABLE policy_versions (
    policy INTEGER NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    document TEXT NOT NULL,
    creation_date REAL NOT NULL,
    PRIMARY KEY (policy, version)
) WITHOUT ROWID;

CREATE TABLE policy_attachments (
    policy INTEGER NOT NULL REFERENCES policies(id),
    target TEXT NOT NULL,                   -- certificate ARN or thing-group ARN
    attached REAL NOT NULL,
    PRIMARY KEY (policy, target)
) WITHOUT ROWID;
CREATE INDEX policy_attachments_target ON policy_attachments(target, policy);
