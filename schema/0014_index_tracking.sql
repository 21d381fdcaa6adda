-- Dynamic-group change tracking (0009) only while a dynamic group exists: index_dirty feeds
-- nothing else, and with no dynamic group every shadow update, connectivity write and thing
-- change paid for a row nobody reads (the broker thread's shadow updates among them). Creating
-- a dynamic group builds its membership from the current state, so nothing is lost by not
-- tracking before. Same triggers as 0009 with that condition added.
DROP TRIGGER index_thing_insert;
CREATE TRIGGER index_thing_insert AFTER INSERT ON things
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE dynamic = 1) BEGIN
    INSERT INTO index_dirty SELECT NEW.name WHERE NOT EXISTS
        (SELECT 1 FROM index_dirty WHERE thing_name = NEW.name);
END;
DROP TRIGGER index_thing_update;
CREATE TRIGGER index_thing_update AFTER UPDATE ON things
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE dynamic = 1) BEGIN
    INSERT INTO index_dirty SELECT NEW.name WHERE NOT EXISTS
        (SELECT 1 FROM index_dirty WHERE thing_name = NEW.name);
END;
DROP TRIGGER index_attr_insert;
CREATE TRIGGER index_attr_insert AFTER INSERT ON thing_attributes
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE dynamic = 1) BEGIN
    INSERT INTO index_dirty SELECT name FROM things WHERE id = NEW.thing
        AND name NOT IN (SELECT thing_name FROM index_dirty);
END;
DROP TRIGGER index_attr_update;
CREATE TRIGGER index_attr_update AFTER UPDATE ON thing_attributes
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE dynamic = 1) BEGIN
    INSERT INTO index_dirty SELECT name FROM things WHERE id = NEW.thing
        AND name NOT IN (SELECT thing_name FROM index_dirty);
END;
DROP TRIGGER index_attr_delete;
CREATE TRIGGER index_attr_delete AFTER DELETE ON thing_attributes
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE dynamic = 1) BEGIN
    INSERT INTO index_dirty SELECT name FROM things WHERE id = OLD.thing
        AND name NOT IN (SELECT thing_name FROM index_dirty);
END;
DROP TRIGGER index_shadow_insert;
CREATE TRIGGER index_shadow_insert AFTER INSERT ON shadows
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE dynamic = 1) BEGIN
    INSERT INTO index_dirty SELECT NEW.thing_name WHERE NOT EXISTS
        (SELECT 1 FROM index_dirty WHERE thing_name = NEW.thing_name);
END;
DROP TRIGGER index_shadow_update;
CREATE TRIGGER index_shadow_update AFTER UPDATE ON shadows
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE dynamic = 1) BEGIN
    INSERT INTO index_dirty SELECT NEW.thing_name WHERE NOT EXISTS
        (SELECT 1 FROM index_dirty WHERE thing_name = NEW.thing_name);
END;
DROP TRIGGER index_conn_insert;
CREATE TRIGGER index_conn_insert AFTER INSERT ON connectivity
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE dynamic = 1) BEGIN
    INSERT INTO index_dirty SELECT NEW.client_id WHERE NOT EXISTS
        (SELECT 1 FROM index_dirty WHERE thing_name = NEW.client_id);
END;
DROP TRIGGER index_conn_update;
CREATE TRIGGER index_conn_update AFTER UPDATE ON connectivity
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE dynamic = 1) BEGIN
    INSERT INTO index_dirty SELECT NEW.client_id WHERE NOT EXISTS
        (SELECT 1 FROM index_dirty WHERE thing_name = NEW.client_id);
END;
DROP TRIGGER index_member_insert;
CREATE TRIGGER index_member_insert AFTER INSERT ON thing_group_members
WHEN (SELECT dynamic FROM thing_groups WHERE id = NEW.grp) = 0 AND EXISTS (SELECT 1 FROM thing_groups WHERE dynamic = 1) BEGIN
    INSERT INTO index_dirty SELECT name FROM things WHERE id = NEW.thing
        AND name NOT IN (SELECT thing_name FROM index_dirty);
END;
DROP TRIGGER index_member_delete;
CREATE TRIGGER index_member_delete AFTER DELETE ON thing_group_members
WHEN IFNULL((SELECT dynamic FROM thing_groups WHERE id = OLD.grp), 0) = 0 AND EXISTS (SELECT 1 FROM thing_groups WHERE dynamic = 1) BEGIN
    INSERT INTO index_dirty SELECT name FROM things WHERE id = OLD.thing
        AND name NOT IN (SELECT thing_name FROM index_dirty);
END;
DROP TRIGGER fleet_metrics_tags_gc;
CREATE TRIGGER fleet_metrics_tags_gc AFTER DELETE ON fleet_metrics
WHEN EXISTS (SELECT 1 FROM thing_groups WHERE dynamic = 1) BEGIN
    DELETE FROM tags WHERE arn GLOB ('arn:*:fleetmetric/' || OLD.name);
END;
