-- Broker state (broker_plugin/ writes, the server reads): connectivity per client id, retained
-- messages, and the security epoch that tells connected clients' cached policies to refresh.

-- Last connect/disconnect of each client id (AWS_IOT_BEHAVIOUR.md section 7). Fleet indexing
-- joins it to things by name (connectivity of the thing whose name is the client id).
CREATE TABLE connectivity (
    client_id         TEXT PRIMARY KEY,
    connected         INTEGER NOT NULL,       -- 1 while a connection is live
    timestamp         INTEGER NOT NULL,       -- epoch ms of the last connect or disconnect
    disconnect_reason TEXT,                   -- AWS reason of the last disconnect, NULL when none
    session_id        TEXT,                   -- sessionIdentifier of the last connection
    version_number    INTEGER NOT NULL DEFAULT 0,
    cert_id           TEXT,                   -- principalIdentifier of the last connection
    ip_address        TEXT
) WITHOUT ROWID;

-- One retained message per topic (section 8); an empty retained payload deletes the row.
CREATE TABLE retained_messages (
    topic         TEXT PRIMARY KEY,
    payload       BLOB NOT NULL,
    qos           INTEGER NOT NULL,
    last_modified INTEGER NOT NULL            -- epoch ms
) WITHOUT ROWID;

-- Bumped by every change that can alter what a connected client may do; the plugin polls it
-- and re-evaluates its connections when it moves.
CREATE TABLE security_epoch (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    epoch INTEGER NOT NULL
);
INSERT INTO security_epoch (id, epoch) VALUES (1, 0);

CREATE TRIGGER sec_cert_status AFTER UPDATE OF status ON certificates BEGIN
    UPDATE security_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER sec_cert_delete AFTER DELETE ON certificates BEGIN
    UPDATE security_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
-- A new CA goes into the listener's trust directory (broker_plugin/cadir.c).
CREATE TRIGGER sec_ca_insert AFTER INSERT ON ca_certificates BEGIN
    UPDATE security_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER sec_ca_status AFTER UPDATE OF status ON ca_certificates BEGIN
    UPDATE security_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER sec_ca_delete AFTER DELETE ON ca_certificates BEGIN
    UPDATE security_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER sec_policy_default AFTER UPDATE OF default_version ON policies BEGIN
    UPDATE security_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER sec_policy_attach AFTER INSERT ON policy_attachments BEGIN
    UPDATE security_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER sec_policy_detach AFTER DELETE ON policy_attachments BEGIN
    UPDATE security_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER sec_principal_attach AFTER INSERT ON thing_principals BEGIN
    UPDATE security_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER sec_principal_detach AFTER DELETE ON thing_principals BEGIN
    UPDATE security_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
-- Group policies reach a thing's connection through its groups and their ancestors.
CREATE TRIGGER sec_member_add AFTER INSERT ON thing_group_members
WHEN EXISTS (SELECT 1 FROM thing_principals WHERE thing = NEW.thing) BEGIN
    UPDATE security_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER sec_member_remove AFTER DELETE ON thing_group_members
WHEN EXISTS (SELECT 1 FROM thing_principals WHERE thing = OLD.thing) BEGIN
    UPDATE security_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER sec_group_parent AFTER UPDATE OF parent ON thing_groups BEGIN
    UPDATE security_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
-- Policy variables read the thing's attributes and type (iot:Connection.Thing.*); only things
-- with a principal can have a connection.
CREATE TRIGGER sec_attr_insert AFTER INSERT ON thing_attributes
WHEN EXISTS (SELECT 1 FROM thing_principals WHERE thing = NEW.thing) BEGIN
    UPDATE security_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER sec_attr_update AFTER UPDATE ON thing_attributes
WHEN EXISTS (SELECT 1 FROM thing_principals WHERE thing = NEW.thing) BEGIN
    UPDATE security_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER sec_attr_delete AFTER DELETE ON thing_attributes
WHEN EXISTS (SELECT 1 FROM thing_principals WHERE thing = OLD.thing) BEGIN
    UPDATE security_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
CREATE TRIGGER sec_thing_type AFTER UPDATE OF type_id ON things
WHEN EXISTS (SELECT 1 FROM thing_principals WHERE thing = NEW.id) BEGIN
    UPDATE security_epoch SET epoch = epoch + 1 WHERE id = 1;
END;
