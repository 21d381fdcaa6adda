-- AWS IoT v2 logging configuration and the CloudWatch-Logs-compatible log store (logs/).

-- SetV2LoggingOptions; no row = never configured (GetV2LoggingOptions: NotConfiguredException).
-- Levels are integers: 0 DISABLED, 1 ERROR, 2 WARN, 3 INFO, 4 DEBUG.
CREATE TABLE logging_options (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    role_arn      TEXT,
    default_level INTEGER NOT NULL,
    disable_all   INTEGER NOT NULL DEFAULT 0
);

-- SetV2LoggingLevel: target types 1 THING_GROUP, 2 CLIENT_ID, 3 SOURCE_IP, 4 PRINCIPAL_ID.
CREATE TABLE logging_levels (
    target_type INTEGER NOT NULL,
    target_name TEXT NOT NULL,
    level       INTEGER NOT NULL,
    PRIMARY KEY (target_type, target_name)
) WITHOUT ROWID;

CREATE TABLE log_groups (
    name           TEXT PRIMARY KEY,
    created        INTEGER NOT NULL, -- epoch ms
    retention_days INTEGER           -- NULL = never expire
) WITHOUT ROWID;

CREATE TABLE log_streams (
    grp     TEXT NOT NULL,
    name    TEXT NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (grp, name)
) WITHOUT ROWID;

-- One row per event; streams and groups are deleted with their events by logs/store.c.
CREATE TABLE log_events (
    id      INTEGER PRIMARY KEY,
    grp     TEXT NOT NULL,
    stream  TEXT NOT NULL,
    ts      INTEGER NOT NULL, -- event time, epoch ms
    ingest  INTEGER NOT NULL, -- ingestion time, epoch ms
    message TEXT NOT NULL
);
CREATE INDEX log_events_stream ON log_events(grp, stream, ts);
CREATE INDEX log_events_time ON log_events(grp, ts);
