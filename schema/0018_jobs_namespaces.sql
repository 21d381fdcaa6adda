-- Jobs: namespaces and continuous-job joiners (jobs/, AWS_IOT_BEHAVIOUR.md §5).
--
-- namespace_id: CreateJob's namespaceId (customer-managed jobs). A namespaced job's executions
-- are not in the thing's ordinary pending list; its notifications go to
-- $aws/things/<thing>/jobs/<jobId>/notify-namespace-<namespaceId>/.
ALTER TABLE jobs ADD COLUMN namespace_id TEXT;
CREATE INDEX jobs_namespace ON jobs(namespace_id, job_id) WHERE namespace_id IS NOT NULL;

-- late = 1: the execution was added because its thing joined a CONTINUOUS job's target after
-- the job's creation; such executions are released at once (within the concurrency limit),
-- outside the rollout rate, and do not count towards it.
ALTER TABLE job_executions ADD COLUMN late INTEGER NOT NULL DEFAULT 0;
