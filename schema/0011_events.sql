-- Event messages (AWS_IOT_BEHAVIOUR.md sections 5 and 7) enabled with UpdateEventConfigurations.
--
-- Whichever process changes the data (the server's HTTP handlers and scheduler, or the broker
-- plugin answering a device), these triggers write the event into event_outbox in the same
-- transaction, so an event exists exactly when its change committed; fleetyard-server publishes
-- the outbox through the internal link (server/events.c) and deletes what it published. The
-- enabled event types are rows 'events.enabled.<TYPE>' = '1' in settings (registry/events.c).
-- Job event timestamps are epoch seconds, as in AWS's examples.
CREATE TABLE event_outbox (
    id         INTEGER PRIMARY KEY,
    topic      TEXT NOT NULL,
    payload    TEXT NOT NULL,  -- JSON; the publisher adds thingArn when thing_name is set
    thing_name TEXT
);

-- A job event: completed, canceled, deletion_in_progress (status changes) and deleted.
CREATE TRIGGER ev_job_status AFTER UPDATE OF status ON jobs
WHEN NEW.status <> OLD.status AND NEW.status IN ('COMPLETED', 'CANCELED', 'DELETION_IN_PROGRESS')
 AND (SELECT value FROM settings WHERE key = 'events.enabled.JOB') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload) VALUES (
        '$aws/events/job/' || NEW.job_id || '/' ||
            CASE NEW.status WHEN 'COMPLETED' THEN 'completed' WHEN 'CANCELED' THEN 'canceled'
                            ELSE 'deletion_in_progress' END,
        json_remove(json_object(
            'eventType', 'JOB',
            'eventId', lower(hex(randomblob(16))),
            'timestamp', CAST(strftime('%s', 'now') AS INTEGER),
            'operation', CASE NEW.status WHEN 'COMPLETED' THEN 'completed'
                             WHEN 'CANCELED' THEN 'canceled' ELSE 'deletion_in_progress' END,
            'jobId', NEW.job_id,
            'status', NEW.status,
            'targetSelection', NEW.target_selection,
            'targets', json(NEW.targets),
            'description', NEW.description,
            'createdAt', CAST(NEW.created_at AS INTEGER),
            'lastUpdatedAt', CAST(NEW.last_updated_at AS INTEGER),
            'completedAt', CAST(NEW.completed_at AS INTEGER),
            'comment', NEW.comment,
            'jobProcessDetails', CASE WHEN NEW.status = 'COMPLETED' THEN json_object(
                'numberOfSucceededThings', (SELECT count(*) FROM job_executions e
                    WHERE e.job = NEW.id AND e.status = 'SUCCEEDED'),
                'numberOfFailedThings', (SELECT count(*) FROM job_executions e
                    WHERE e.job = NEW.id AND e.status = 'FAILED'),
                'numberOfRejectedThings', (SELECT count(*) FROM job_executions e
                    WHERE e.job = NEW.id AND e.status = 'REJECTED'),
                'numberOfTimedOutThings', (SELECT count(*) FROM job_executions e
                    WHERE e.job = NEW.id AND e.status = 'TIMED_OUT'),
                'numberOfCanceledThings', (SELECT count(*) FROM job_executions e
                    WHERE e.job = NEW.id AND e.status = 'CANCELED'),
                'numberOfRemovedThings', (SELECT count(*) FROM job_executions e
                    WHERE e.job = NEW.id AND e.status = 'REMOVED')) END),
            CASE WHEN NEW.description IS NULL THEN '$.description' ELSE '$.x' END,
            CASE WHEN NEW.completed_at IS NULL THEN '$.completedAt' ELSE '$.x' END,
            CASE WHEN NEW.comment IS NULL THEN '$.comment' ELSE '$.x' END,
            CASE WHEN NEW.status <> 'COMPLETED' THEN '$.jobProcessDetails' ELSE '$.x' END));
END;

CREATE TRIGGER ev_job_deleted AFTER DELETE ON jobs
WHEN (SELECT value FROM settings WHERE key = 'events.enabled.JOB') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload) VALUES (
        '$aws/events/job/' || OLD.job_id || '/deleted',
        json_object('eventType', 'JOB', 'eventId', lower(hex(randomblob(16))),
                    'timestamp', CAST(strftime('%s', 'now') AS INTEGER),
                    'operation', 'deleted', 'jobId', OLD.job_id, 'status', OLD.status,
                    'targetSelection', OLD.target_selection, 'targets', json(OLD.targets),
                    'createdAt', CAST(OLD.created_at AS INTEGER),
                    'lastUpdatedAt', CAST(OLD.last_updated_at AS INTEGER)));
END;

-- A job execution event when an execution reaches a terminal status, or is deleted on its own
-- (not as part of deleting its job, nor a queued execution the rollout never released).
CREATE TRIGGER ev_execution_status AFTER UPDATE OF status ON job_executions
WHEN NEW.status <> OLD.status
 AND NEW.status IN ('SUCCEEDED', 'FAILED', 'REJECTED', 'CANCELED', 'TIMED_OUT', 'REMOVED')
 AND (SELECT value FROM settings WHERE key = 'events.enabled.JOB_EXECUTION') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload, thing_name) VALUES (
        '$aws/events/jobExecution/' || NEW.job_id || '/' || lower(NEW.status),
        json_remove(json_object(
            'eventType', 'JOB_EXECUTION', 'eventId', lower(hex(randomblob(16))),
            'timestamp', CAST(strftime('%s', 'now') AS INTEGER),
            'operation', lower(NEW.status), 'jobId', NEW.job_id, 'status', NEW.status,
            'statusDetails', json(NEW.status_details)),
            CASE WHEN NEW.status_details IS NULL THEN '$.statusDetails' ELSE '$.x' END),
        NEW.thing_name);
END;

CREATE TRIGGER ev_execution_deleted AFTER DELETE ON job_executions
WHEN OLD.released = 1
 AND IFNULL((SELECT status FROM jobs WHERE id = OLD.job), 'DELETION_IN_PROGRESS')
     <> 'DELETION_IN_PROGRESS'
 AND (SELECT value FROM settings WHERE key = 'events.enabled.JOB_EXECUTION') = '1'
BEGIN
    INSERT INTO event_outbox(topic, payload, thing_name) VALUES (
        '$aws/events/jobExecution/' || OLD.job_id || '/deleted',
        json_object('eventType', 'JOB_EXECUTION', 'eventId', lower(hex(randomblob(16))),
                    'timestamp', CAST(strftime('%s', 'now') AS INTEGER),
                    'operation', 'deleted', 'jobId', OLD.job_id, 'status', OLD.status),
        OLD.thing_name);
END;
