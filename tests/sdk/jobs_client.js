// A device built on the AWS IoT Device SDK v2 for JavaScript and its jobs client (iotjobs),
// driven by tests/integration/test_sdk.py: waits for notify-next, starts the next pending job,
// reports it SUCCEEDED, and prints one JSON line per event on stdout.
// Usage: node jobs_client.js <host> <port> <ca> <cert> <key> <thing>
'use strict';
const { mqtt, iot, iotjobs } = require('aws-iot-device-sdk-v2');

const [host, port, ca, cert, key, thing] = process.argv.slice(2);
const QOS = mqtt.QoS.AtLeastOnce;
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

function waiter() {
    let resolve;
    const p = new Promise((r) => { resolve = r; });
    return { p, cb: (err, resp) => resolve({ err, resp }) };
}

async function main() {
    const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(cert, key)
        .with_certificate_authority_from_path(undefined, ca)
        .with_clean_session(true).with_client_id(thing).with_endpoint(host)
        .with_port(Number(port)).build();
    const conn = new mqtt.MqttClient().new_connection(config);
    await conn.connect();
    const jobs = new iotjobs.IotJobsClient(conn);

    const next = waiter();
    await jobs.subscribeToNextJobExecutionChangedEvents({ thingName: thing }, QOS, next.cb);
    const started = waiter();
    await jobs.subscribeToStartNextPendingJobExecutionAccepted({ thingName: thing }, QOS, started.cb);
    out({ event: 'subscribed' });

    const n = await next.p;
    if (n.err) throw n.err;
    out({ event: 'notify-next', jobId: n.resp.execution.jobId, status: n.resp.execution.status });

    await jobs.publishStartNextPendingJobExecution({ thingName: thing, clientToken: 'sdk-start',
        statusDetails: { progress: 'started' } }, QOS);
    const s = await started.p;
    if (s.err) throw s.err;
    const ex = s.resp.execution;
    out({ event: 'started', jobId: ex.jobId, status: ex.status, document: ex.jobDocument,
          clientToken: s.resp.clientToken });

    const updated = waiter();
    await jobs.subscribeToUpdateJobExecutionAccepted({ thingName: thing, jobId: ex.jobId }, QOS,
        updated.cb);
    await jobs.publishUpdateJobExecution({ thingName: thing, jobId: ex.jobId,
        status: iotjobs.model.JobStatus.SUCCEEDED, expectedVersion: ex.versionNumber,
        includeJobExecutionState: true, clientToken: 'sdk-done' }, QOS);
    const u = await updated.p;
    if (u.err) throw u.err;
    out({ event: 'updated', status: u.resp.executionState.status, clientToken: u.resp.clientToken });
    await conn.disconnect();
    out({ event: 'done' });
}

main().catch((e) => { out({ event: 'error', error: String(e && e.message || e) }); process.exit(1); });
