-- The rollout counts (jobs/engine.c load_counts) run at every device update that finishes an
-- execution: "unreleased, not late" and "unreleased, late" must be index seeks, not a walk over
-- every queued execution of a large job (0018 added `late` outside the index).
CREATE INDEX job_executions_queue ON job_executions(job, status, released, late);
DROP INDEX job_executions_job_status; -- a prefix of the new index
