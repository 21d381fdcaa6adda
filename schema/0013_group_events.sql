-- Thing group events (AWS_IOT_BEHAVIOUR.md section 7), like 0012: THING_GROUP created, updated
-- (version bump) and deleted, and THING_GROUP_HIERARCHY added (a group created under a parent)
-- and removed (a child deleted). enrich 'group' makes the publisher add accountId and
-- rootToParentThingGroups (the ARNs of the ancestors, root first).
CREATE TRIGGER ev_group_created AFTER INSERT ON thing_groups
WHEN (SELECT value FROM settings WHERE key = 'events.enabled.THING_GROUP') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload, enrich) SELECT
        '$aws/events/thingGroup/' || NEW.name || '/created',
        json_object('eventType', 'THING_GROUP_EVENT', 'eventId', lower(hex(randomblob(16))),
                    'timestamp', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
                    'operation', 'CREATED', 'thingGroupId', NEW.group_id,
                    'thingGroupName', NEW.name, 'versionNumber', NEW.version,
                    'parentGroupName', p.name, 'parentGroupId', p.group_id,
                    'description', NEW.description, 'attributes', json(NEW.attributes),
                    'dynamicGroupMappingId', NULL),
        'group'
    FROM (SELECT NULL) LEFT JOIN thing_groups p ON p.id = NEW.parent;
END;

CREATE TRIGGER ev_group_updated AFTER UPDATE OF version ON thing_groups
WHEN NEW.version <> OLD.version
 AND (SELECT value FROM settings WHERE key = 'events.enabled.THING_GROUP') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload, enrich) SELECT
        '$aws/events/thingGroup/' || NEW.name || '/updated',
        json_object('eventType', 'THING_GROUP_EVENT', 'eventId', lower(hex(randomblob(16))),
                    'timestamp', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
                    'operation', 'UPDATED', 'thingGroupId', NEW.group_id,
                    'thingGroupName', NEW.name, 'versionNumber', NEW.version,
                    'parentGroupName', p.name, 'parentGroupId', p.group_id,
                    'description', NEW.description, 'attributes', json(NEW.attributes),
                    'dynamicGroupMappingId', NULL),
        'group'
    FROM (SELECT NULL) LEFT JOIN thing_groups p ON p.id = NEW.parent;
END;

CREATE TRIGGER ev_group_deleted AFTER DELETE ON thing_groups
WHEN (SELECT value FROM settings WHERE key = 'events.enabled.THING_GROUP') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload, enrich) SELECT
        '$aws/events/thingGroup/' || OLD.name || '/deleted',
        json_object('eventType', 'THING_GROUP_EVENT', 'eventId', lower(hex(randomblob(16))),
                    'timestamp', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
                    'operation', 'DELETED', 'thingGroupId', OLD.group_id,
                    'thingGroupName', OLD.name, 'versionNumber', OLD.version,
                    'parentGroupName', p.name, 'parentGroupId', p.group_id,
                    'description', OLD.description, 'attributes', json(OLD.attributes),
                    'dynamicGroupMappingId', NULL),
        'group'
    FROM (SELECT NULL) LEFT JOIN thing_groups p ON p.id = OLD.parent;
END;

CREATE TRIGGER ev_hierarchy_added AFTER INSERT ON thing_groups
WHEN NEW.parent IS NOT NULL
 AND (SELECT value FROM settings WHERE key = 'events.enabled.THING_GROUP_HIERARCHY') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload, enrich) SELECT
        '$aws/events/thingGroupHierarchy/thingGroup/' || p.name || '/childThingGroup/' ||
            NEW.name || '/added',
        json_object('eventType', 'THING_GROUP_HIERARCHY_EVENT',
                    'eventId', lower(hex(randomblob(16))),
                    'timestamp', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
                    'operation', 'ADDED', 'thingGroupId', p.group_id, 'thingGroupName', p.name,
                    'childGroupId', NEW.group_id, 'childGroupName', NEW.name),
        'account'
    FROM thing_groups p WHERE p.id = NEW.parent;
END;

CREATE TRIGGER ev_hierarchy_removed AFTER DELETE ON thing_groups
WHEN OLD.parent IS NOT NULL
 AND (SELECT value FROM settings WHERE key = 'events.enabled.THING_GROUP_HIERARCHY') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload, enrich) SELECT
        '$aws/events/thingGroupHierarchy/thingGroup/' || p.name || '/childThingGroup/' ||
            OLD.name || '/removed',
        json_object('eventType', 'THING_GROUP_HIERARCHY_EVENT',
                    'eventId', lower(hex(randomblob(16))),
                    'timestamp', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
                    'operation', 'REMOVED', 'thingGroupId', p.group_id, 'thingGroupName', p.name,
                    'childGroupId', OLD.group_id, 'childGroupName', OLD.name),
        'account'
    FROM thing_groups p WHERE p.id = OLD.parent;
END;
