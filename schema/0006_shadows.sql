-- Device shadows (AWS_IOT_BEHAVIOUR.md section 4). name '' is the classic shadow. A shadow may exist
-- for a thing name that is not registered, and deleting a thing keeps its shadows (section 1.4).
-- A deleted shadow keeps its row (deleted = 1, doc NULL) so the version keeps counting.
CREATE TABLE shadows (
    thing_name TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    doc        TEXT,
    version    INTEGER NOT NULL DEFAULT 0,
    deleted    INTEGER NOT NULL DEFAULT 0,
    updated    REAL NOT NULL,
    PRIMARY KEY (thing_name, name)
) WITHOUT ROWID;
