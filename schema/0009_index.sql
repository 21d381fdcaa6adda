-- Fleet indexing (index/): change tracking for dynamic thing groups, case-insensitive lookups
-- for the query language, fleet metrics and their datapoints.

-- Names of things whose indexed data changed since the scheduler last brought the dynamic
-- groups up to date (fy_index_tick). Every writer (HTTP handlers, the broker plugin) records
-- through the triggers below, so membership follows changes made anywhere. (No OR IGNORE in
-- the triggers: an UPSERT's conflict handling overrides a trigger's, so a duplicate would abort
-- the outer statement; each insert checks for the row itself.)
CREATE TABLE index_dirty (
    thing_name TEXT PRIMARY KEY
) WITHOUT ROWID;

CREATE TRIGGER index_thing_insert AFTER INSERT ON things BEGIN
    INSERT INTO index_dirty SELECT NEW.name WHERE NOT EXISTS
        (SELECT 1 FROM index_dirty WHERE thing_name = NEW.name);
END;
CREATE TRIGGER index_thing_update AFTER UPDATE ON things BEGIN
    INSERT INTO index_dirty SELECT NEW.name WHERE NOT EXISTS
        (SELECT 1 FROM index_dirty WHERE thing_name = NEW.name);
END;
CREATE TRIGGER index_attr_insert AFTER INSERT ON thing_attributes BEGIN
    INSERT INTO index_dirty SELECT name FROM things WHERE id = NEW.thing
        AND name NOT IN (SELECT thing_name FROM index_dirty);
END;
CREATE TRIGGER index_attr_update AFTER UPDATE ON thing_attributes BEGIN
    INSERT INTO index_dirty SELECT name FROM things WHERE id = NEW.thing
        AND name NOT IN (SELECT thing_name FROM index_dirty);
END;
CREATE TRIGGER index_attr_delete AFTER DELETE ON thing_attributes BEGIN
    INSERT INTO index_dirty SELECT name FROM things WHERE id = OLD.thing
        AND name NOT IN (SELECT thing_name FROM index_dirty);
END;
CREATE TRIGGER index_shadow_insert AFTER INSERT ON shadows BEGIN
    INSERT INTO index_dirty SELECT NEW.thing_name WHERE NOT EXISTS
        (SELECT 1 FROM index_dirty WHERE thing_name = NEW.thing_name);
END;
CREATE TRIGGER index_shadow_update AFTER UPDATE ON shadows BEGIN
    INSERT INTO index_dirty SELECT NEW.thing_name WHERE NOT EXISTS
        (SELECT 1 FROM index_dirty WHERE thing_name = NEW.thing_name);
END;
CREATE TRIGGER index_conn_insert AFTER INSERT ON connectivity BEGIN
    INSERT INTO index_dirty SELECT NEW.client_id WHERE NOT EXISTS
        (SELECT 1 FROM index_dirty WHERE thing_name = NEW.client_id);
END;
CREATE TRIGGER index_conn_update AFTER UPDATE ON connectivity BEGIN
    INSERT INTO index_dirty SELECT NEW.client_id WHERE NOT EXISTS
        (SELECT 1 FROM index_dirty WHERE thing_name = NEW.client_id);
END;
-- Static memberships are searchable (thingGroupNames); dynamic ones are the output.
CREATE TRIGGER index_member_insert AFTER INSERT ON thing_group_members
WHEN (SELECT dynamic FROM thing_groups WHERE id = NEW.grp) = 0 BEGIN
    INSERT INTO index_dirty SELECT name FROM things WHERE id = NEW.thing
        AND name NOT IN (SELECT thing_name FROM index_dirty);
END;
CREATE TRIGGER index_member_delete AFTER DELETE ON thing_group_members
WHEN IFNULL((SELECT dynamic FROM thing_groups WHERE id = OLD.grp), 0) = 0 BEGIN
    INSERT INTO index_dirty SELECT name FROM things WHERE id = OLD.thing
        AND name NOT IN (SELECT thing_name FROM index_dirty);
END;

-- Values match case-insensitively (AWS); these keep selective queries on an index.
CREATE INDEX things_name_nocase ON things(name COLLATE NOCASE);
CREATE INDEX thing_attributes_kv_nocase ON thing_attributes(key, value COLLATE NOCASE);
CREATE INDEX thing_groups_dynamic ON thing_groups(dynamic);

CREATE TABLE fleet_metrics (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    query_string TEXT NOT NULL,
    aggregation_type TEXT NOT NULL,       -- JSON {name, values[]}
    period INTEGER NOT NULL,              -- seconds, 60..86400, multiple of 60
    aggregation_field TEXT NOT NULL,
    description TEXT,
    query_version TEXT NOT NULL,
    index_name TEXT NOT NULL,
    unit TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    creation_date REAL NOT NULL,
    last_modified REAL NOT NULL,
    next_run REAL NOT NULL                -- epoch seconds of the next evaluation
);
CREATE INDEX fleet_metrics_next ON fleet_metrics(next_run);

-- One row per evaluated value: stat is the statistic ("count", "average"...), the percent
-- ("p50") or "cardinality"; value NULL when the aggregation had no answer.
CREATE TABLE fleet_metric_datapoints (
    metric INTEGER NOT NULL REFERENCES fleet_metrics(id) ON DELETE CASCADE,
    ts REAL NOT NULL,
    stat TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (metric, ts, stat)
) WITHOUT ROWID;

CREATE TRIGGER fleet_metrics_tags_gc AFTER DELETE ON fleet_metrics BEGIN
    DELETE FROM tags WHERE arn GLOB ('arn:*:fleetmetric/' || OLD.name);
END;
