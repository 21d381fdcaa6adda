-- Jobs: jobs, their targets, job executions and job templates (jobs/, AWS_IOT_BEHAVIOUR.md §5).
--
-- A job's configuration (rollout, abort, timeout, retry, scheduling, presigned URL and the
-- fleetyard jobExecutionsConfig) is stored as the JSON the client sent, after validation; the
-- scheduler parses it again (jobs/config.c) so there is one reading of it.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    job_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,            -- IN_PROGRESS|CANCELED|COMPLETED|DELETION_IN_PROGRESS|SCHEDULED
    target_selection TEXT NOT NULL,  -- SNAPSHOT|CONTINUOUS
    targets TEXT NOT NULL,           -- JSON array of target ARNs as given
    document TEXT,
    document_source TEXT,
    description TEXT,
    config TEXT NOT NULL DEFAULT '{}',
    template_arn TEXT,
    force_canceled INTEGER NOT NULL DEFAULT 0,
    reason_code TEXT,
    comment TEXT,
    rollout_stopped INTEGER NOT NULL DEFAULT 0, -- schedulingConfig endBehavior STOP_ROLLOUT ran
    created_at REAL NOT NULL,
    last_updated_at REAL NOT NULL,
    completed_at REAL
);
CREATE INDEX jobs_status ON jobs(status, job_id);

-- Resolved targets: kind 'thing' or 'group' and the name from the ARN.
CREATE TABLE job_targets (
    job INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (job, kind, name)
) WITHOUT ROWID;
CREATE INDEX job_targets_name ON job_targets(kind, name);

-- One row per execution attempt of a job on a thing. released = 1 once the rollout has handed
-- it to the device (only released executions are pending for the device); released_at feeds the
-- per-minute rate. deadline is the earliest of the step and in-progress timers (NULL = none).
CREATE TABLE job_executions (
    id INTEGER PRIMARY KEY,
    job INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    job_id TEXT NOT NULL,
    thing_name TEXT NOT NULL,
    execution_number INTEGER NOT NULL,
    status TEXT NOT NULL,
    released INTEGER NOT NULL DEFAULT 0,
    released_at REAL,
    status_details TEXT,             -- JSON object or NULL
    queued_at REAL NOT NULL,
    started_at REAL,
    last_updated_at REAL NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    retry_attempt INTEGER NOT NULL DEFAULT 0,
    force_canceled INTEGER NOT NULL DEFAULT 0,
    step_deadline REAL,
    progress_deadline REAL,
    UNIQUE (job, thing_name, execution_number)
);
CREATE INDEX job_executions_thing ON job_executions(thing_name, status);
CREATE INDEX job_executions_job_status ON job_executions(job, status, released);
CREATE INDEX job_executions_released ON job_executions(job, released_at);

CREATE TABLE job_templates (
    id INTEGER PRIMARY KEY,
    template_id TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    document TEXT,
    document_source TEXT,
    config TEXT NOT NULL DEFAULT '{}',
    created_at REAL NOT NULL
);

-- Tags of jobs and job templates go with them (same pattern as 0003_groups.sql).
CREATE TRIGGER jobs_tags_gc AFTER DELETE ON jobs BEGIN
    DELETE FROM tags WHERE arn GLOB ('arn:*:job/' || OLD.job_id);
END;
CREATE TRIGGER job_templates_tags_gc AFTER DELETE ON job_templates BEGIN
    DELETE FROM tags WHERE arn GLOB ('arn:*:jobtemplate/' || OLD.template_id);
END;
