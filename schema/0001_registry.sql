-- Registry: thing types, things, attributes, thing groups, memberships, tags.
CREATE TABLE thing_types (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    type_id TEXT NOT NULL,
    description TEXT,
    searchable_attributes TEXT NOT NULL DEFAULT '[]', -- JSON array
    properties TEXT NOT NULL DEFAULT '{}',            -- full thingTypeProperties JSON
    deprecated INTEGER NOT NULL DEFAULT 0,
    deprecation_date REAL,
    creation_date REAL NOT NULL
);

CREATE TABLE things (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    thing_id TEXT NOT NULL,
    type_id INTEGER REFERENCES thing_types(id),
    billing_group TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    creation_date REAL NOT NULL,
    modified_date REAL NOT NULL
);
CREATE INDEX things_type ON things(type_id);

CREATE TABLE thing_attributes (
    thing INTEGER NOT NULL REFERENCES things(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (thing, key)
) WITHOUT ROWID;
CREATE INDEX thing_attributes_kv ON thing_attributes(key, value);

CREATE TABLE thing_groups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    group_id TEXT NOT NULL,
    parent INTEGER REFERENCES thing_groups(id),
    root INTEGER,          -- id of the hierarchy's root (itself for a root)
    depth INTEGER NOT NULL DEFAULT 1,
    description TEXT,
    attributes TEXT NOT NULL DEFAULT '{}', -- JSON object
    merge_attrs INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    creation_date REAL NOT NULL,
    dynamic INTEGER NOT NULL DEFAULT 0,
    index_name TEXT,
    query_string TEXT,
    query_version TEXT,
    status TEXT
);
CREATE INDEX thing_groups_parent ON thing_groups(parent);

CREATE TABLE thing_group_members (
    grp INTEGER NOT NULL REFERENCES thing_groups(id) ON DELETE CASCADE,
    thing INTEGER NOT NULL REFERENCES things(id) ON DELETE CASCADE,
    added REAL NOT NULL,
    PRIMARY KEY (grp, thing)
) WITHOUT ROWID;
CREATE INDEX thing_group_members_thing ON thing_group_members(thing, grp);

CREATE TABLE tags (
    arn TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (arn, key)
) WITHOUT ROWID;

-- Key/value settings owned by the server (indexing configuration, event configuration...).
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
