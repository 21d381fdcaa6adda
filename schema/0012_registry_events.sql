-- Registry events (AWS_IOT_BEHAVIOUR.md section 7), enabled per type with
-- UpdateEventConfigurations; written into event_outbox (0011) by these triggers in the
-- transaction of the change. Timestamps are epoch milliseconds. `enrich` tells the publisher
-- (server/events.c) what to add at publish time: 'account' (accountId), 'thing' (accountId and
-- the thing's attributes as they are then: a thing's attributes are written after its row).
ALTER TABLE event_outbox ADD COLUMN enrich TEXT;

CREATE TRIGGER ev_thing_created AFTER INSERT ON things
WHEN (SELECT value FROM settings WHERE key = 'events.enabled.THING') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload, thing_name, enrich) VALUES (
        '$aws/events/thing/' || NEW.name || '/created',
        json_object('eventType', 'THING_EVENT', 'eventId', lower(hex(randomblob(16))),
                    'timestamp', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
                    'operation', 'CREATED', 'thingId', NEW.thing_id, 'thingName', NEW.name,
                    'versionNumber', NEW.version,
                    'thingTypeName', (SELECT name FROM thing_types WHERE id = NEW.type_id)),
        NEW.name, 'thing');
END;

CREATE TRIGGER ev_thing_updated AFTER UPDATE OF version ON things
WHEN NEW.version <> OLD.version
 AND (SELECT value FROM settings WHERE key = 'events.enabled.THING') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload, thing_name, enrich) VALUES (
        '$aws/events/thing/' || NEW.name || '/updated',
        json_object('eventType', 'THING_EVENT', 'eventId', lower(hex(randomblob(16))),
                    'timestamp', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
                    'operation', 'UPDATED', 'thingId', NEW.thing_id, 'thingName', NEW.name,
                    'versionNumber', NEW.version,
                    'thingTypeName', (SELECT name FROM thing_types WHERE id = NEW.type_id)),
        NEW.name, 'thing');
END;

-- BEFORE: the attributes are still there (they go with the row).
CREATE TRIGGER ev_thing_deleted BEFORE DELETE ON things
WHEN (SELECT value FROM settings WHERE key = 'events.enabled.THING') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload, enrich) VALUES (
        '$aws/events/thing/' || OLD.name || '/deleted',
        json_object('eventType', 'THING_EVENT', 'eventId', lower(hex(randomblob(16))),
                    'timestamp', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
                    'operation', 'DELETED', 'thingId', OLD.thing_id, 'thingName', OLD.name,
                    'versionNumber', OLD.version,
                    'thingTypeName', (SELECT name FROM thing_types WHERE id = OLD.type_id),
                    'attributes', (SELECT json_group_object(key, value) FROM thing_attributes
                                   WHERE thing = OLD.id)),
        'account');
END;

-- Thing types: created, updated (deprecated or not), deleted.
CREATE TRIGGER ev_type_created AFTER INSERT ON thing_types
WHEN (SELECT value FROM settings WHERE key = 'events.enabled.THING_TYPE') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload, enrich) VALUES (
        '$aws/events/thingType/' || NEW.name || '/created',
        json_object('eventType', 'THING_TYPE_EVENT', 'eventId', lower(hex(randomblob(16))),
                    'timestamp', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
                    'operation', 'CREATED', 'thingTypeId', NEW.type_id,
                    'thingTypeName', NEW.name, 'isDeprecated', json(CASE NEW.deprecated
                        WHEN 0 THEN 'false' ELSE 'true' END),
                    'deprecationDate', CAST(NEW.deprecation_date * 1000 AS INTEGER),
                    'searchableAttributes', json(NEW.searchable_attributes),
                    'description', NEW.description),
        'account');
END;

CREATE TRIGGER ev_type_updated AFTER UPDATE OF deprecated, deprecation_date ON thing_types
WHEN (NEW.deprecated <> OLD.deprecated OR NEW.deprecation_date IS NOT OLD.deprecation_date)
 AND (SELECT value FROM settings WHERE key = 'events.enabled.THING_TYPE') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload, enrich) VALUES (
        '$aws/events/thingType/' || NEW.name || '/updated',
        json_object('eventType', 'THING_TYPE_EVENT', 'eventId', lower(hex(randomblob(16))),
                    'timestamp', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
                    'operation', 'UPDATED', 'thingTypeId', NEW.type_id,
                    'thingTypeName', NEW.name, 'isDeprecated', json(CASE NEW.deprecated
                        WHEN 0 THEN 'false' ELSE 'true' END),
                    'deprecationDate', CAST(NEW.deprecation_date * 1000 AS INTEGER),
                    'searchableAttributes', json(NEW.searchable_attributes),
                    'description', NEW.description),
        'account');
END;

CREATE TRIGGER ev_type_deleted AFTER DELETE ON thing_types
WHEN (SELECT value FROM settings WHERE key = 'events.enabled.THING_TYPE') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload, enrich) VALUES (
        '$aws/events/thingType/' || OLD.name || '/deleted',
        json_object('eventType', 'THING_TYPE_EVENT', 'eventId', lower(hex(randomblob(16))),
                    'timestamp', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
                    'operation', 'DELETED', 'thingTypeId', OLD.type_id,
                    'thingTypeName', OLD.name, 'isDeprecated', json(CASE OLD.deprecated
                        WHEN 0 THEN 'false' ELSE 'true' END),
                    'deprecationDate', CAST(OLD.deprecation_date * 1000 AS INTEGER),
                    'searchableAttributes', json(OLD.searchable_attributes),
                    'description', OLD.description),
        'account');
END;

-- A thing's type association: added when a thing gets a type, removed when it loses one.
CREATE TRIGGER ev_type_assoc_new AFTER INSERT ON things
WHEN NEW.type_id IS NOT NULL
 AND (SELECT value FROM settings WHERE key = 'events.enabled.THING_TYPE_ASSOCIATION') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload) SELECT
        '$aws/events/thingTypeAssociation/thing/' || NEW.name || '/thingType/' || tt.name ||
            '/added',
        json_object('eventId', lower(hex(randomblob(16))),
                    'eventType', 'THING_TYPE_ASSOCIATION_EVENT', 'operation', 'ADDED',
                    'thingId', NEW.thing_id, 'thingName', NEW.name, 'thingTypeName', tt.name,
                    'timestamp', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
    FROM thing_types tt WHERE tt.id = NEW.type_id;
END;

CREATE TRIGGER ev_type_assoc_change AFTER UPDATE OF type_id ON things
WHEN NEW.type_id IS NOT OLD.type_id
 AND (SELECT value FROM settings WHERE key = 'events.enabled.THING_TYPE_ASSOCIATION') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload) SELECT
        '$aws/events/thingTypeAssociation/thing/' || NEW.name || '/thingType/' || tt.name ||
            '/removed',
        json_object('eventId', lower(hex(randomblob(16))),
                    'eventType', 'THING_TYPE_ASSOCIATION_EVENT', 'operation', 'REMOVED',
                    'thingId', NEW.thing_id, 'thingName', NEW.name, 'thingTypeName', tt.name,
                    'timestamp', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
    FROM thing_types tt WHERE tt.id = OLD.type_id;
    INSERT INTO event_outbox(topic, payload) SELECT
        '$aws/events/thingTypeAssociation/thing/' || NEW.name || '/thingType/' || tt.name ||
            '/added',
        json_object('eventId', lower(hex(randomblob(16))),
                    'eventType', 'THING_TYPE_ASSOCIATION_EVENT', 'operation', 'ADDED',
                    'thingId', NEW.thing_id, 'thingName', NEW.name, 'thingTypeName', tt.name,
                    'timestamp', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
    FROM thing_types tt WHERE tt.id = NEW.type_id;
END;

-- Static group membership: added and removed (the publisher adds the ARNs).
CREATE TRIGGER ev_member_added AFTER INSERT ON thing_group_members
WHEN (SELECT value FROM settings WHERE key = 'events.enabled.THING_GROUP_MEMBERSHIP') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload, thing_name, enrich) SELECT
        '$aws/events/thingGroupMembership/thingGroup/' || g.name || '/thing/' || t.name ||
            '/added',
        json_object('eventType', 'THING_GROUP_MEMBERSHIP_EVENT',
                    'eventId', lower(hex(randomblob(16))),
                    'timestamp', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
                    'operation', 'ADDED', 'groupName', g.name, 'groupId', g.group_id,
                    'thingId', t.thing_id, 'membershipId', lower(hex(randomblob(8)))),
        t.name, 'membership'
    FROM thing_groups g, things t WHERE g.id = NEW.grp AND t.id = NEW.thing;
END;

CREATE TRIGGER ev_member_removed BEFORE DELETE ON thing_group_members
WHEN (SELECT value FROM settings WHERE key = 'events.enabled.THING_GROUP_MEMBERSHIP') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload, thing_name, enrich) SELECT
        '$aws/events/thingGroupMembership/thingGroup/' || g.name || '/thing/' || t.name ||
            '/removed',
        json_object('eventType', 'THING_GROUP_MEMBERSHIP_EVENT',
                    'eventId', lower(hex(randomblob(16))),
                    'timestamp', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
                    'operation', 'REMOVED', 'groupName', g.name, 'groupId', g.group_id,
                    'thingId', t.thing_id, 'membershipId', lower(hex(randomblob(8)))),
        t.name, 'membership'
    FROM thing_groups g, things t WHERE g.id = OLD.grp AND t.id = OLD.thing;
END;
