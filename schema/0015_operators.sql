-- Operator access keys (README "Operator access keys"): SigV4 key pairs besides the bootstrap
-- administrator credential of <data dir>/credentials, each limited by the IAM policy documents
-- attached to it. Managed by `fleetyard-server keys` while the server runs; the server caches
-- them and reloads when operator_keys_version.version changes (bumped by the triggers below).
CREATE TABLE operator_keys (
    access_key_id TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'Active' CHECK (status IN ('Active', 'Inactive')),
    created INTEGER NOT NULL,  -- epoch ms
    rotated INTEGER            -- epoch ms of the last secret rotation, NULL when never
);
CREATE TABLE operator_key_policies (
    access_key_id TEXT NOT NULL REFERENCES operator_keys(access_key_id) ON DELETE CASCADE,
    policy_name TEXT NOT NULL,
    document TEXT NOT NULL,
    attached INTEGER NOT NULL, -- epoch ms
    PRIMARY KEY (access_key_id, policy_name)
);
CREATE TABLE operator_keys_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO operator_keys_version VALUES (1, 0);
CREATE TRIGGER operator_keys_insert AFTER INSERT ON operator_keys BEGIN
    UPDATE operator_keys_version SET version = version + 1;
END;
CREATE TRIGGER operator_keys_update AFTER UPDATE ON operator_keys BEGIN
    UPDATE operator_keys_version SET version = version + 1;
END;
CREATE TRIGGER operator_keys_delete AFTER DELETE ON operator_keys BEGIN
    UPDATE operator_keys_version SET version = version + 1;
END;
CREATE TRIGGER operator_key_policies_insert AFTER INSERT ON operator_key_policies BEGIN
    UPDATE operator_keys_version SET version = version + 1;
END;
CREATE TRIGGER operator_key_policies_update AFTER UPDATE ON operator_key_policies BEGIN
    UPDATE operator_keys_version SET version = version + 1;
END;
CREATE TRIGGER operator_key_policies_delete AFTER DELETE ON operator_key_policies BEGIN
    UPDATE operator_keys_version SET version = version + 1;
END;
