// A device built on the AWS IoT Device SDK v2 for JavaScript (npm aws-iot-device-sdk-v2) and its
// shadow client, driven by tests/integration/test_sdk.py: connects over mutual TLS, waits for a
// delta on its classic shadow, reports the desired value back, updates and reads a named shadow,
// and prints one JSON line per event on stdout.
// Usage: node shadow_client.js <host> <port> <ca> <cert> <key> <thing>
'use strict';
const { mqtt, iot, iotshadow } = require('aws-iot-device-sdk-v2');

const [host, port, ca, cert, key, thing] = process.argv.slice(2);
const QOS = mqtt.QoS.AtLeastOnce;
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

function once(subscribe) {
    return new Promise((resolve, reject) => {
        subscribe((err, resp) => (err ? reject(err) : resolve(resp)));
    });
}

async function main() {
    const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(cert, key)
        .with_certificate_authority_from_path(undefined, ca)
        .with_clean_session(true)
        .with_client_id(thing)
        .with_endpoint(host)
        .with_port(Number(port))
        .build();
    const conn = new mqtt.MqttClient().new_connection(config);
    await conn.connect();
    out({ event: 'connected' });
    const shadow = new iotshadow.IotShadowClient(conn);

    let deltaCb;
    await shadow.subscribeToShadowDeltaUpdatedEvents({ thingName: thing }, QOS,
        (err, resp) => deltaCb && deltaCb(err, resp));
    const accepted = [];
    await shadow.subscribeToUpdateShadowAccepted({ thingName: thing }, QOS,
        (err, resp) => accepted.push(resp));
    out({ event: 'subscribed' });

    const delta = await once((cb) => { deltaCb = cb; });
    out({ event: 'delta', state: delta.state, version: delta.version });

    await shadow.publishUpdateShadow({ thingName: thing, state: { reported: delta.state },
        clientToken: 'sdk-report' }, QOS);
    const getAccepted = once((cb) => shadow.subscribeToGetShadowAccepted({ thingName: thing }, QOS, cb));
    await new Promise((r) => setTimeout(r, 200));
    await shadow.publishGetShadow({ thingName: thing, clientToken: 'sdk-get' }, QOS);
    const got = await getAccepted;
    out({ event: 'get', state: got.state, version: got.version, clientToken: got.clientToken });

    const named = once((cb) => shadow.subscribeToUpdateNamedShadowAccepted(
        { thingName: thing, shadowName: 'sdk' }, QOS, cb));
    await new Promise((r) => setTimeout(r, 200));
    await shadow.publishUpdateNamedShadow({ thingName: thing, shadowName: 'sdk',
        state: { reported: { firmware: '1.2.3' } } }, QOS);
    const n = await named;
    out({ event: 'named', state: n.state, version: n.version });
    await conn.disconnect();
    out({ event: 'done' });
}

main().catch((e) => { out({ event: 'error', error: String(e && e.message || e) }); process.exit(1); });
