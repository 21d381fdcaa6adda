"""fleetyard-server backup / restore (README "Backups").

The main test takes a backup while a writer keeps creating things (each with three attributes,
then its shadow) and another keeps bumping one shadow, restores it into a new data directory,
starts a server on it and checks the restored state is one consistent moment of the writes:
the things form a prefix of the writer's sequence, every thing has all its attributes, every
shadow belongs to a thing that exists, and the counter shadow's document matches its version.
"""
import json
import os
import sqlite3
import subprocess
import threading
import time

import pytest

from conftest import SERVER_BIN, Server

ATTRS = {"a": "1", "b": "2", "c": "3"}


def new_dir(tmp_path, name):
    path = tmp_path / name
    path.mkdir()
    return str(path)


def run(*args, timeout=120):
    return subprocess.run([SERVER_BIN, *args], capture_output=True, text=True, timeout=timeout)


def backup(data_dir, out, *extra):
    return run("backup", "--data-dir", str(data_dir), "--out", str(out), *extra)


def restore(data_dir, src, *extra):
    return run("restore", "--data-dir", str(data_dir), "--from", str(src), *extra)


class Writer:
    """Creates t0, t1, ... in order (thing with attributes, then its shadow) and bumps the
    shadow of 'counter' in a second thread, until stopped."""

    def __init__(self, server):
        self.iot = server.client("iot")
        self.data = server.client("iot-data")
        self.data2 = server.client("iot-data")
        self.created = 0  # things whose CreateThing returned
        self.bumps = 0
        self.stop_flag = threading.Event()
        self.errors = []
        self.threads = [threading.Thread(target=self._things),
                        threading.Thread(target=self._counter)]

    def _things(self):
        try:
            i = 0
            while not self.stop_flag.is_set():
                self.iot.create_thing(thingName=f"t{i}",
                                      attributePayload={"attributes": ATTRS})
                self.created = i + 1
                self.data.update_thing_shadow(
                    thingName=f"t{i}",
                    payload=json.dumps({"state": {"reported": {"seq": i}}}).encode())
                i += 1
        except Exception as e:  # reported by the test
            self.errors.append(e)

    def _counter(self):
        try:
            n = 0
            while not self.stop_flag.is_set():
                n += 1
                self.data2.update_thing_shadow(
                    thingName="counter",
                    payload=json.dumps({"state": {"reported": {"n": n}}}).encode())
                self.bumps = n
        except Exception as e:
            self.errors.append(e)

    def start(self):
        for t in self.threads:
            t.start()

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(30)
        assert not self.errors, self.errors


def db_rows(path, sql):
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def check_consistent(db, created_before, created_after):
    assert db_rows(db, "PRAGMA integrity_check") == [("ok",)]
    names = [r[0] for r in db_rows(db, "SELECT name FROM things WHERE name GLOB 't[0-9]*'")]
    seqs = sorted(int(n[1:]) for n in names)
    # A prefix of the writer's sequence, taken while it was running.
    assert seqs == list(range(len(seqs)))
    assert created_before <= len(seqs) <= created_after + 1
    # All of a thing's attributes or none: they are written in one transaction.
    counts = db_rows(db, "SELECT t.name, count(a.key) FROM things t LEFT JOIN thing_attributes a "
                         "ON a.thing = t.id WHERE t.name GLOB 't[0-9]*' GROUP BY t.id")
    assert all(c == len(ATTRS) for _, c in counts), counts
    # Shadows come after their thing: every t-shadow has its thing; all but the last thing
    # have their shadow.
    shadows = {r[0]: json.loads(r[1]) for r in db_rows(
        db, "SELECT thing_name, doc FROM shadows WHERE thing_name GLOB 't[0-9]*'")}
    assert set(shadows) <= set(names)
    assert len(shadows) >= len(names) - 1
    for name, doc in shadows.items():
        assert doc["state"]["reported"]["seq"] == int(name[1:])
    (doc, version), = db_rows(db, "SELECT doc, version FROM shadows WHERE thing_name='counter'")
    assert json.loads(doc)["state"]["reported"]["n"] == version
    return len(seqs), version


def test_backup_during_writes_restores_consistent_state(tmp_path):
    src = Server().start()
    restored = None
    try:
        writer = Writer(src)
        writer.start()
        while writer.created < 30 or writer.bumps < 30:
            time.sleep(0.05)
        before, bumps_before = writer.created, writer.bumps
        # One page per step (1 ms pause each): the copy spans many commits of both writers.
        r = backup(src.data_dir, tmp_path / "b.fyb", "--step-pages", "1")
        after, bumps_after = writer.created, writer.bumps
        writer.stop()
        assert r.returncode == 0, r.stderr
        summary = json.loads(r.stdout)
        assert summary["integrity"] == "ok" and summary["steps"] >= summary["pages"] > 50
        assert after > before or bumps_after > bumps_before, "no write overlapped the backup"
        assert {"fleetyard.db", "credentials", "pki/ca.crt", "pki/ca.key"} <= set(
            summary["files"])

        new_dir = tmp_path / "restored"
        r = restore(new_dir, tmp_path / "b.fyb")
        assert r.returncode == 0, r.stderr
        rs = json.loads(r.stdout)
        assert rs["schema_version"] == summary["schema_version"] == rs["binary_schema_version"]
        n, version = check_consistent(str(new_dir / "fleetyard.db"), before, after)
        print(f"backup {summary}; things {before}..{after} restored {n}; "
              f"counter {bumps_before}..{bumps_after} restored {version}")
        assert bumps_before <= version <= bumps_after + 1

        # The restored instance starts with the same credentials and CA and serves the data.
        with open(os.path.join(src.data_dir, "pki", "ca.crt"), "rb") as f:
            assert (new_dir / "pki" / "ca.crt").read_bytes() == f.read()
        restored = Server(data_dir=str(new_dir)).start()
        assert restored.env["AWS_ACCESS_KEY_ID"] == src.env["AWS_ACCESS_KEY_ID"]
        iot, data = restored.client("iot"), restored.client("iot-data")
        thing = iot.describe_thing(thingName=f"t{n - 1}")
        assert thing["attributes"] == ATTRS
        doc = json.loads(data.get_thing_shadow(thingName="t0")["payload"].read())
        assert doc["state"]["reported"]["seq"] == 0
        iot.create_thing(thingName="after-restore")  # and it takes writes
    finally:
        src.cleanup()
        if restored:
            restored.stop()


def test_backup_includes_config_and_restore_places_it(tmp_path):
    conf = tmp_path / "fy.conf"
    conf.write_text("region = eu-west-1\n")
    s = Server(data_dir=new_dir(tmp_path, "d"), extra_args=["--config", str(conf)]).start()
    try:
        s.client("iot").create_thing(thingName="cfg-thing")
    finally:
        s.stop()  # a stopped instance backs up the same way
    r = run("backup", "--config", str(conf), "--data-dir", str(tmp_path / "d"), "--out",
            str(tmp_path / "b.fyb"))
    assert r.returncode == 0, r.stderr
    assert "fleetyard.conf" in json.loads(r.stdout)["files"]
    r = restore(tmp_path / "r", tmp_path / "b.fyb")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["config"].endswith("/fleetyard.conf")
    assert (tmp_path / "r" / "fleetyard.conf").read_text() == conf.read_text()
    # The archive is a plain SQLite archive: the sqlite3 tool lists it.
    p = subprocess.run(["sqlite3", str(tmp_path / "b.fyb"), "-At"], capture_output=True,
                       text=True)
    assert p.returncode == 0 and "fleetyard-backup.json" in p.stdout.split()


def test_restore_refused_while_server_runs(tmp_path):
    s = Server(data_dir=new_dir(tmp_path, "d")).start()
    try:
        s.client("iot").create_thing(thingName="keep-me")
        r = backup(s.data_dir, tmp_path / "b.fyb")
        assert r.returncode == 0, r.stderr
        r = restore(s.data_dir, tmp_path / "b.fyb")
        assert r.returncode == 1
        assert "in use" in r.stderr and str(s.proc.pid) in r.stderr
        # A second server on the same directory is refused the same way.
        p = subprocess.run([SERVER_BIN, "--data-dir", s.data_dir, "--http-port", "0",
                            "--mqtt-port", "0"], capture_output=True, text=True, timeout=30)
        assert p.returncode == 1 and "in use" in p.stderr
        s.client("iot").describe_thing(thingName="keep-me")
    finally:
        s.stop()
    # Once the server is gone the same restore goes through, replacing pki/ (and the
    # pki/cas directory the broker keeps there) and leaving nothing staged behind.
    assert os.path.isdir(os.path.join(s.data_dir, "pki", "cas"))
    r = restore(s.data_dir, tmp_path / "b.fyb")
    assert r.returncode == 0, r.stderr
    assert not [n for n in os.listdir(s.data_dir) if "restore-tmp" in n]
    assert os.path.exists(os.path.join(s.data_dir, "pki", "ca.key"))
    s.start()
    s.client("iot").describe_thing(thingName="keep-me")
    s.stop()
    s.cleanup()


def test_restore_refuses_bad_files(tmp_path):
    target = tmp_path / "target"
    junk = tmp_path / "junk.fyb"
    junk.write_bytes(os.urandom(8192))
    r = restore(target, junk)
    assert r.returncode == 1 and "not a fleetyard backup" in r.stderr
    other = tmp_path / "other.db"
    sqlite3.connect(str(other)).execute("CREATE TABLE x(y)").connection.close()
    r = restore(target, other)
    assert r.returncode == 1 and "not a fleetyard backup" in r.stderr
    r = restore(target, tmp_path / "missing.fyb")
    assert r.returncode == 1 and "missing.fyb" in r.stderr
    assert not (target / "fleetyard.db").exists()


def make_backup(tmp_path):
    s = Server(data_dir=new_dir(tmp_path, "d")).start()
    try:
        s.client("iot").create_thing(thingName="x")
        r = backup(s.data_dir, tmp_path / "b.fyb")
        assert r.returncode == 0, r.stderr
    finally:
        s.stop()
    return tmp_path / "b.fyb"


def rewrite_db_entry(archive, change):
    """Replaces the archive's fleetyard.db entry by change(bytes)."""
    con = sqlite3.connect(str(archive))
    data, = con.execute("SELECT data FROM sqlar WHERE name='fleetyard.db'").fetchone()
    data = change(bytes(data))
    con.execute("UPDATE sqlar SET data=?, sz=? WHERE name='fleetyard.db'", (data, len(data)))
    con.commit()
    con.close()


def test_restore_refuses_corrupt_database_and_newer_schema(tmp_path):
    archive = make_backup(tmp_path)
    good = archive.read_bytes()
    target = tmp_path / "target"

    rewrite_db_entry(archive, lambda b: b[:len(b) // 2])  # truncated database
    r = restore(target, archive)
    assert r.returncode == 1 and ("integrity" in r.stderr or "not a usable" in r.stderr), r.stderr
    assert not (target / "fleetyard.db").exists()
    assert not any(p.name.endswith(".restore-tmp") for p in target.iterdir())

    archive.write_bytes(good)

    def newer(b):
        path = tmp_path / "newer.db"
        path.write_bytes(b)
        con = sqlite3.connect(str(path))
        con.execute("PRAGMA user_version=9999")
        con.commit()
        con.close()
        return path.read_bytes()
    rewrite_db_entry(archive, newer)
    r = restore(target, archive)
    assert r.returncode == 1 and "newer than this binary" in r.stderr
    assert not (target / "fleetyard.db").exists()

    archive.write_bytes(good)
    r = restore(target, archive)
    assert r.returncode == 0, r.stderr


def test_backup_errors(tmp_path):
    r = backup(tmp_path / "nope", tmp_path / "b.fyb")
    assert r.returncode == 1 and "no fleetyard database" in r.stderr and "nope" in r.stderr
    assert not (tmp_path / "b.fyb").exists()
    r = run("backup", "--data-dir", str(tmp_path))
    assert r.returncode == 2 and "--out FILE is required" in r.stderr
    r = run("backup", "--data-dir", str(tmp_path), "--out", "x", "--step-pages", "0")
    assert r.returncode == 2 and "--step-pages" in r.stderr
    # An existing backup file is replaced only by a complete new one.
    archive = make_backup(tmp_path)
    r = backup(tmp_path / "d", archive)
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(str(archive) + ".tmp")
