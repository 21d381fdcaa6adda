"""Upgrades: the real fleetyard-server opens a database made by an earlier schema version and
migrates it, and the data stays intact and usable through the AWS APIs.

For each of the last few schema versions k (before the newest), a database is built from the
repository's schema/ files the way an older fleetyard left it: migrations 0001..0008 applied,
realistic rows written (a thing type, things with attributes, a thing group with a member, a
certificate attached to a thing and to a policy, shadows, a job with its execution), then the
migrations up to k applied on top (as that older binary would have done at its next start).
The server must apply k+1..newest, end at the newest user_version, and serve the data.
"""
import glob
import json
import os
import re
import sqlite3
import ssl
import hashlib
import subprocess

import pytest

from conftest import ROOT, SERVER_BIN, Server

SCHEMA = sorted(glob.glob(os.path.join(ROOT, "schema", "[0-9][0-9][0-9][0-9]_*.sql")))
VERSIONS = sorted(int(os.path.basename(p)[:4]) for p in SCHEMA)  # numbers may have gaps
LATEST = VERSIONS[-1]
BASE = 8  # the version the rows below are written at (things, groups, security, shadows, jobs)
OLDER = [k for k in VERSIONS[-4:-1] if k >= BASE]  # the three versions before the newest
ARN = "arn:aws:iot:us-east-1:123456789012"
NOW = 1700000000.0


def apply_migrations(con, first, last):
    for path in SCHEMA:
        v = int(os.path.basename(path)[:4])
        if first <= v <= last:
            with open(path) as f:
                con.executescript(f.read())
            con.execute(f"PRAGMA user_version={v}")
            con.commit()


def make_cert(tmp_path):
    key, crt = tmp_path / "dev.key", tmp_path / "dev.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(key), "-out", str(crt),
                    "-subj", "/CN=upgrade-device", "-days", "30"], check=True,
                   capture_output=True)
    pem = crt.read_text()
    return pem, hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def write_rows(con, pem, cert_id):
    x = con.execute
    x("INSERT INTO thing_types(id, name, type_id, description, creation_date) "
      "VALUES (1, 'sensor', 'tt-1', 'temperature sensors', ?)", (NOW,))
    for i in (1, 2):
        x("INSERT INTO things(id, name, thing_id, type_id, version, creation_date, modified_date) "
          "VALUES (?, ?, ?, 1, 2, ?, ?)", (i, f"dev-{i}", f"id-{i}", NOW, NOW))
        x("INSERT INTO thing_attributes(thing, key, value, thing_name) VALUES (?, 'site', ?, ?)",
          (i, f"plant-{i}", f"dev-{i}"))
    x("INSERT INTO thing_groups(id, name, group_id, root, depth, description, attributes, "
      "creation_date) VALUES (1, 'line-a', 'g-1', 1, 1, 'assembly line', '{\"floor\":\"2\"}', ?)",
      (NOW,))
    x("INSERT INTO thing_group_members(grp, thing, added) VALUES (1, 1, ?)", (NOW,))
    x("INSERT INTO certificates(id, cert_id, pem, status, owned_by, generation_id, "
      "creation_date, last_modified) VALUES (1, ?, ?, 'ACTIVE', '123456789012', 'gen-1', ?, ?)",
      (cert_id, pem, NOW, NOW))
    x("INSERT INTO thing_principals(thing, principal, attached) VALUES (1, ?, ?)",
      (f"{ARN}:cert/{cert_id}", NOW))
    x("INSERT INTO policies(id, name, default_version, next_version, generation_id, "
      "creation_date, last_modified) VALUES (1, 'dev-policy', 1, 2, 'pg-1', ?, ?)", (NOW, NOW))
    x("INSERT INTO policy_versions(policy, version, document, creation_date) VALUES (1, 1, ?, ?)",
      (json.dumps({"Version": "2012-10-17", "Statement": [
          {"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}), NOW))
    x("INSERT INTO policy_attachments(policy, target, attached) VALUES (1, ?, ?)",
      (f"{ARN}:cert/{cert_id}", NOW))
    x("INSERT INTO shadows(thing_name, name, doc, version, updated) VALUES ('dev-1', '', ?, 7, ?)",
      (json.dumps({"state": {"reported": {"temp": 21}, "desired": {"temp": 19}},
                   "metadata": {"reported": {"temp": {"timestamp": 1700000000}},
                                "desired": {"temp": {"timestamp": 1700000000}}}}), NOW))
    x("INSERT INTO jobs(id, job_id, status, target_selection, targets, document, description, "
      "created_at, last_updated_at) VALUES (1, 'fw-update', 'IN_PROGRESS', 'SNAPSHOT', ?, ?, "
      "'firmware 2.0', ?, ?)",
      (json.dumps([f"{ARN}:thing/dev-2"]), json.dumps({"firmware": "2.0"}), NOW, NOW))
    x("INSERT INTO job_targets(job, kind, name) VALUES (1, 'thing', 'dev-2')")
    x("INSERT INTO job_executions(job, job_id, thing_name, execution_number, status, released, "
      "released_at, queued_at, last_updated_at) VALUES (1, 'fw-update', 'dev-2', 1, 'QUEUED', 1, "
      "?, ?, ?)", (NOW, NOW, NOW))
    con.commit()


def build_old_db(tmp_path, k):
    data_dir = tmp_path / f"v{k}"
    data_dir.mkdir()
    pem, cert_id = make_cert(tmp_path)
    con = sqlite3.connect(str(data_dir / "fleetyard.db"))
    apply_migrations(con, 1, BASE)
    write_rows(con, pem, cert_id)
    apply_migrations(con, BASE + 1, k)
    assert con.execute("PRAGMA user_version").fetchone()[0] == k
    con.close()
    return str(data_dir), cert_id


def check_data(s, cert_id):
    iot, data = s.client("iot"), s.client("iot-data")
    t = iot.describe_thing(thingName="dev-1")
    assert t["attributes"] == {"site": "plant-1"} and t["thingTypeName"] == "sensor"
    assert t["version"] == 2
    g = iot.describe_thing_group(thingGroupName="line-a")
    assert g["thingGroupProperties"]["attributePayload"]["attributes"] == {"floor": "2"}
    assert iot.list_things_in_thing_group(thingGroupName="line-a")["things"] == ["dev-1"]
    c = iot.describe_certificate(certificateId=cert_id)["certificateDescription"]
    assert c["status"] == "ACTIVE" and "BEGIN CERTIFICATE" in c["certificatePem"]
    assert iot.list_thing_principals(thingName="dev-1")["principals"] == [
        f"{ARN}:cert/{cert_id}"]
    p = iot.get_policy(policyName="dev-policy")
    assert json.loads(p["policyDocument"])["Statement"][0]["Action"] == "iot:*"
    assert [x["policyName"] for x in iot.list_attached_policies(
        target=f"{ARN}:cert/{cert_id}")["policies"]] == ["dev-policy"]
    doc = json.loads(data.get_thing_shadow(thingName="dev-1")["payload"].read())
    assert doc["state"]["reported"] == {"temp": 21} and doc["state"]["delta"] == {"temp": 19}
    assert doc["version"] == 7
    j = iot.describe_job(jobId="fw-update")["job"]
    assert j["status"] == "IN_PROGRESS" and j["description"] == "firmware 2.0"
    e = iot.describe_job_execution(jobId="fw-update", thingName="dev-2")["execution"]
    assert e["status"] == "QUEUED" and e["executionNumber"] == 1
    # ... and usable: writes on top of the migrated rows work.
    data.update_thing_shadow(thingName="dev-1",
                             payload=json.dumps({"state": {"reported": {"temp": 19}}}).encode())
    doc = json.loads(data.get_thing_shadow(thingName="dev-1")["payload"].read())
    assert doc["version"] == 8 and "delta" not in doc["state"]
    iot.update_thing(thingName="dev-2", attributePayload={"attributes": {"site": "moved"}})
    iot.add_thing_to_thing_group(thingGroupName="line-a", thingName="dev-2")
    iot.create_thing(thingName="dev-3", thingTypeName="sensor")


def test_schema_files_are_numbered_once():
    numbers = [int(os.path.basename(p)[:4]) for p in SCHEMA]
    assert len(set(numbers)) == len(numbers) and numbers[0] == 1
    assert OLDER, "there is no older version to upgrade from"


@pytest.mark.parametrize("k", OLDER)
def test_server_migrates_older_database(tmp_path, k):
    data_dir, cert_id = build_old_db(tmp_path, k)
    s = Server(data_dir=data_dir)
    try:
        s.start()
        applied = re.findall(r"applied migration (\d{4})_", s.read_log())
        newer = [int(os.path.basename(p)[:4]) for p in SCHEMA]
        assert [int(v) for v in applied] == [v for v in newer if v > k]
        con = sqlite3.connect(os.path.join(data_dir, "fleetyard.db"))
        assert con.execute("PRAGMA user_version").fetchone()[0] == LATEST
        con.close()
        check_data(s, cert_id)
    finally:
        s.stop()
    report = s.sanitizer_report()
    assert report is None, report


def test_server_refuses_newer_database(tmp_path):
    data_dir = tmp_path / "newer"
    data_dir.mkdir()
    con = sqlite3.connect(str(data_dir / "fleetyard.db"))
    apply_migrations(con, 1, LATEST)
    con.execute(f"PRAGMA user_version={LATEST + 1}")
    con.commit()
    con.close()
    p = subprocess.run([SERVER_BIN, "--data-dir", str(data_dir), "--http-port", "0",
                        "--mqtt-port", "0"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert f"schema version {LATEST + 1} is newer than this binary ({LATEST})" in p.stderr
