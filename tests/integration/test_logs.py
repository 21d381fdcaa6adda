"""Issue 9, logging: the v2 logging API (SetV2LoggingOptions, GetV2LoggingOptions,
SetV2LoggingLevel, ListV2LoggingLevels, DeleteV2LoggingLevel) and the CloudWatch-Logs-compatible
log store (CreateLogGroup, DeleteLogGroup, DescribeLogGroups, PutRetentionPolicy,
CreateLogStream, DescribeLogStreams, PutLogEvents, GetLogEvents, FilterLogEvents), through boto3
and the stock CLI. Events of devices and shadows are in test_logs_events.py."""
import time

import botocore.exceptions
import pytest

from conftest import error_code

TARGETS_MAX = 1000  # logs/logs.h FY_LOGGING_TARGETS_MAX
GROUP_NAME_MAX = 512
FILTER_MAX = 1024
FILTER_TERMS_MAX = 32


@pytest.fixture
def logs(server, reset):
    # no client-side validation: bad input must reach the server and be refused there
    return server.client("logs", parameter_validation=False)


AUDIT = "fleetyard/audit"  # created by the server for its audit trail (test_logs_audit.py)
FILTER_STREAMS_MAX = 100  # FilterLogEvents logStreamNames


def user_groups(logs, **kw):
    """DescribeLogGroups without the server's own audit group."""
    return [g for g in logs.describe_log_groups(**kw)["logGroups"] if g["logGroupName"] != AUDIT]


def levels(iot, **kw):
    out = []
    for page in iot.get_paginator("list_v2_logging_levels").paginate(**kw):
        out += page["logTargetConfigurations"]
    return out


def test_options_roundtrip_and_not_configured(iot):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        iot.get_v2_logging_options()
    assert error_code(ei) == "NotConfiguredException"
    iot.set_v2_logging_options(roleArn="arn:aws:iam::123456789012:role/log", defaultLogLevel="WARN")
    o = iot.get_v2_logging_options()
    assert o["defaultLogLevel"] == "WARN" and o["disableAllLogs"] is False
    assert o["roleArn"] == "arn:aws:iam::123456789012:role/log"
    iot.set_v2_logging_options(defaultLogLevel="DEBUG", disableAllLogs=True)
    o = iot.get_v2_logging_options()
    assert o["defaultLogLevel"] == "DEBUG" and o["disableAllLogs"] is True and "roleArn" not in o


def test_options_bad_level_changes_nothing(iot, server):
    iot.set_v2_logging_options(defaultLogLevel="INFO")
    from conftest import signed_request
    r = signed_request(server, "POST", "/v2LoggingOptions", b'{"defaultLogLevel":"LOUD"}')
    assert r.status_code == 400 and r.headers["x-amzn-ErrorType"] == "InvalidRequestException"
    assert iot.get_v2_logging_options()["defaultLogLevel"] == "INFO"


@pytest.mark.parametrize("ttype", ["THING_GROUP", "CLIENT_ID", "SOURCE_IP", "PRINCIPAL_ID"])
def test_levels_set_list_delete(iot, ttype):
    iot.set_v2_logging_level(logTarget={"targetType": ttype, "targetName": "t-1"}, logLevel="INFO")
    iot.set_v2_logging_level(logTarget={"targetType": ttype, "targetName": "t-1"}, logLevel="DEBUG")
    got = levels(iot, targetType=ttype)
    assert got == [{"logTarget": {"targetType": ttype, "targetName": "t-1"}, "logLevel": "DEBUG"}]
    iot.delete_v2_logging_level(targetType=ttype, targetName="t-1")
    assert levels(iot, targetType=ttype) == []
    iot.delete_v2_logging_level(targetType=ttype, targetName="t-1")  # absent: no error


def test_levels_filter_by_type_and_pagination(iot):
    for i in range(7):
        iot.set_v2_logging_level(logTarget={"targetType": "CLIENT_ID", "targetName": f"c{i}"},
                                 logLevel="ERROR")
    iot.set_v2_logging_level(logTarget={"targetType": "THING_GROUP", "targetName": "g"},
                             logLevel="WARN")
    page = iot.list_v2_logging_levels(maxResults=3)
    assert len(page["logTargetConfigurations"]) == 3 and "nextToken" in page
    assert len(levels(iot, PaginationConfig={"PageSize": 3})) == 8
    assert [c["logTarget"]["targetName"] for c in levels(iot, targetType="THING_GROUP")] == ["g"]


def test_level_default_target_sets_default(iot):
    iot.set_v2_logging_level(logTarget={"targetType": "DEFAULT"}, logLevel="WARN")
    assert iot.get_v2_logging_options()["defaultLogLevel"] == "WARN"


@pytest.mark.parametrize("target,level", [
    ({"targetType": "NOPE", "targetName": "x"}, "INFO"),
    ({"targetType": "CLIENT_ID"}, "INFO"),
    ({"targetType": "CLIENT_ID", "targetName": ""}, "INFO"),
    ({"targetType": "CLIENT_ID", "targetName": "x" * 129}, "INFO"),
    ({"targetType": "CLIENT_ID", "targetName": "x"}, "LOUD"),
])
def test_level_bad_input_changes_nothing(server, iot, target, level):
    import json
    from conftest import signed_request
    body = json.dumps({"logTarget": target, "logLevel": level}).encode()
    r = signed_request(server, "POST", "/v2LoggingLevel", body)
    assert r.status_code == 400 and r.headers["x-amzn-ErrorType"] == "InvalidRequestException"
    assert levels(iot) == []


def test_level_name_limit_both_sides(iot):
    iot.set_v2_logging_level(logTarget={"targetType": "CLIENT_ID", "targetName": "x" * 128},
                             logLevel="INFO")
    assert len(levels(iot)) == 1


def test_targets_limit(iot, server):
    import sqlite3, os
    db = sqlite3.connect(os.path.join(server.data_dir, "fleetyard.db"), timeout=5)
    db.executemany("INSERT INTO logging_levels VALUES (2, ?, 1)",
                   [(f"c{i}",) for i in range(TARGETS_MAX - 1)])
    db.commit()
    db.close()
    iot.set_v2_logging_level(logTarget={"targetType": "CLIENT_ID", "targetName": "last"},
                             logLevel="INFO")  # the 1000th
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        iot.set_v2_logging_level(logTarget={"targetType": "CLIENT_ID", "targetName": "one-more"},
                                 logLevel="INFO")
    assert error_code(ei) == "LimitExceededException"
    # updating an existing target is not a new one
    iot.set_v2_logging_level(logTarget={"targetType": "CLIENT_ID", "targetName": "last"},
                             logLevel="DEBUG")


# ---- the log store ----

def test_groups_create_describe_delete(logs):
    logs.create_log_group(logGroupName="/aws/iot/a")
    logs.create_log_group(logGroupName="/aws/iot/b")
    logs.create_log_group(logGroupName="other")
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        logs.create_log_group(logGroupName="/aws/iot/a")
    assert error_code(ei) == "ResourceAlreadyExistsException"
    gs = user_groups(logs, logGroupNamePrefix="/aws/iot/")
    assert [g["logGroupName"] for g in gs] == ["/aws/iot/a", "/aws/iot/b"]
    assert gs[0]["arn"].startswith("arn:aws:logs:") and "retentionInDays" not in gs[0]
    logs.delete_log_group(logGroupName="/aws/iot/a")
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        logs.delete_log_group(logGroupName="/aws/iot/a")
    assert error_code(ei) == "ResourceNotFoundException"
    names = [g["logGroupName"] for g in user_groups(logs)]
    assert names == ["/aws/iot/b", "other"]


def test_group_pagination(logs):
    for i in range(7):
        logs.create_log_group(logGroupName=f"g{i}")
    page = logs.describe_log_groups(limit=3)
    assert len(page["logGroups"]) == 3 and page["nextToken"]
    allg = []
    for p in logs.get_paginator("describe_log_groups").paginate(PaginationConfig={"PageSize": 2}):
        allg += [g["logGroupName"] for g in p["logGroups"]]
    assert allg == [AUDIT] + [f"g{i}" for i in range(7)]


@pytest.mark.parametrize("name", ["", "bad name", "bad:colon", "x" * (GROUP_NAME_MAX + 1)])
def test_group_bad_name_changes_nothing(logs, name):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        logs.create_log_group(logGroupName=name)
    assert error_code(ei) == "InvalidParameterException"
    assert user_groups(logs) == []


def test_group_name_limit_accepted(logs):
    logs.create_log_group(logGroupName="x" * GROUP_NAME_MAX)
    assert len(user_groups(logs)) == 1


def test_retention_enforced(logs):
    logs.create_log_group(logGroupName="r")
    logs.create_log_stream(logGroupName="r", logStreamName="s")
    now = int(time.time() * 1000)
    day = 86400 * 1000
    logs.put_log_events(logGroupName="r", logStreamName="s", logEvents=[
        {"timestamp": now - 10 * day, "message": "ten days old"},
        {"timestamp": now - 2 * day, "message": "two days old"},
        {"timestamp": now, "message": "fresh"}])
    logs.put_retention_policy(logGroupName="r", retentionInDays=7)
    assert user_groups(logs)[0]["retentionInDays"] == 7
    ev = logs.get_log_events(logGroupName="r", logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in ev] == ["two days old", "fresh"]
    logs.put_retention_policy(logGroupName="r", retentionInDays=1)
    ev = logs.filter_log_events(logGroupName="r")["events"]
    assert [e["message"] for e in ev] == ["fresh"]
    # an event put later with an old timestamp is dropped by the next read
    logs.put_log_events(logGroupName="r", logStreamName="s",
                        logEvents=[{"timestamp": now - 3 * day, "message": "late"}])
    assert [e["message"] for e in logs.filter_log_events(logGroupName="r")["events"]] == ["fresh"]


@pytest.mark.parametrize("days", [0, 2, 4000, -1])
def test_retention_bad_value_changes_nothing(logs, days):
    logs.create_log_group(logGroupName="r")
    logs.put_retention_policy(logGroupName="r", retentionInDays=30)
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        logs.put_retention_policy(logGroupName="r", retentionInDays=days)
    assert error_code(ei) == "InvalidParameterException"
    assert user_groups(logs)[0]["retentionInDays"] == 30


def test_retention_unknown_group(logs):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        logs.put_retention_policy(logGroupName="nope", retentionInDays=1)
    assert error_code(ei) == "ResourceNotFoundException"


def test_streams_and_get_events(logs):
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="a")
    logs.create_log_stream(logGroupName="g", logStreamName="b")
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        logs.create_log_stream(logGroupName="g", logStreamName="a")
    assert error_code(ei) == "ResourceAlreadyExistsException"
    logs.put_log_events(logGroupName="g", logStreamName="a", logEvents=[
        {"timestamp": 1000 + i, "message": f"m{i}"} for i in range(5)])
    st = logs.describe_log_streams(logGroupName="g")["logStreams"]
    assert [s["logStreamName"] for s in st] == ["a", "b"]
    assert st[0]["firstEventTimestamp"] == 1000 and st[0]["lastEventTimestamp"] == 1004
    assert "firstEventTimestamp" not in st[1]
    r = logs.get_log_events(logGroupName="g", logStreamName="a", startFromHead=True, limit=2)
    assert [e["message"] for e in r["events"]] == ["m0", "m1"]
    r = logs.get_log_events(logGroupName="g", logStreamName="a", nextToken=r["nextForwardToken"],
                            limit=2)
    assert [e["message"] for e in r["events"]] == ["m2", "m3"]
    newest = logs.get_log_events(logGroupName="g", logStreamName="a", limit=2)
    assert [e["message"] for e in newest["events"]] == ["m3", "m4"]
    back = logs.get_log_events(logGroupName="g", logStreamName="a", limit=2,
                               nextToken=newest["nextBackwardToken"])
    assert [e["message"] for e in back["events"]] == ["m1", "m2"]
    end = logs.get_log_events(logGroupName="g", logStreamName="a", startFromHead=True,
                              nextToken=newest["nextForwardToken"])
    assert end["events"] == [] and end["nextForwardToken"] == newest["nextForwardToken"]
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        logs.get_log_events(logGroupName="nope", logStreamName="a")
    assert error_code(ei) == "ResourceNotFoundException"


def test_put_events_bad_input_changes_nothing(logs):
    logs.create_log_group(logGroupName="g")
    logs.create_log_stream(logGroupName="g", logStreamName="a")
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        logs.put_log_events(logGroupName="nope", logStreamName="a",
                            logEvents=[{"timestamp": 1, "message": "x"}])
    assert error_code(ei) == "ResourceNotFoundException"
    assert logs.filter_log_events(logGroupName="g")["events"] == []


def put_sample(logs):
    logs.create_log_group(logGroupName="f")
    msgs = ["ERROR disk full", "WARN disk slow", "INFO all good", "ERROR Exiting now",
            'INFO said "hello world"']
    for s in ("x", "y"):
        logs.create_log_stream(logGroupName="f", logStreamName=s)
    logs.put_log_events(logGroupName="f", logStreamName="x",
                        logEvents=[{"timestamp": 1000 + i, "message": m}
                                   for i, m in enumerate(msgs[:3])])
    logs.put_log_events(logGroupName="f", logStreamName="y",
                        logEvents=[{"timestamp": 2000 + i, "message": m}
                                   for i, m in enumerate(msgs[3:])])


@pytest.mark.parametrize("pattern,expected", [
    ("", ["ERROR disk full", "WARN disk slow", "INFO all good", "ERROR Exiting now",
          'INFO said "hello world"']),
    ("ERROR", ["ERROR disk full", "ERROR Exiting now"]),
    ("ERROR disk", ["ERROR disk full"]),
    ("ERROR -Exiting", ["ERROR disk full"]),
    ("?WARN ?Exiting", ["WARN disk slow", "ERROR Exiting now"]),
    ('"hello world"', ['INFO said "hello world"']),
    ("error", []),
])
def test_filter_patterns(logs, pattern, expected):
    put_sample(logs)
    ev = logs.filter_log_events(logGroupName="f", filterPattern=pattern)["events"]
    assert [e["message"] for e in ev] == expected
    assert all(e["logStreamName"] in ("x", "y") and e["eventId"] for e in ev)


def test_filter_stream_prefix_time_and_paging(logs):
    put_sample(logs)
    ev = logs.filter_log_events(logGroupName="f", logStreamNamePrefix="y")["events"]
    assert [e["logStreamName"] for e in ev] == ["y", "y"]
    ev = logs.filter_log_events(logGroupName="f", logStreamNames=["y"])["events"]
    assert [e["logStreamName"] for e in ev] == ["y", "y"]
    ev = logs.filter_log_events(logGroupName="f", logStreamNames=["x", "nope"])["events"]
    assert {e["logStreamName"] for e in ev} == {"x"} and len(ev) == 3
    names = ["s%d" % i for i in range(FILTER_STREAMS_MAX)]
    assert logs.filter_log_events(logGroupName="f", logStreamNames=names)["events"] == []
    for bad in (names + ["one-more"], ["a:b"]):  # botocore itself refuses an empty list
        with pytest.raises(botocore.exceptions.ClientError) as ei:
            logs.filter_log_events(logGroupName="f", logStreamNames=bad)
        assert error_code(ei) == "InvalidParameterException"
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        logs.filter_log_events(logGroupName="f", logStreamNames=["y"], logStreamNamePrefix="y")
    assert error_code(ei) == "InvalidParameterException"
    ev = logs.filter_log_events(logGroupName="f", startTime=1001, endTime=2001)["events"]
    assert [e["timestamp"] for e in ev] == [1001, 1002, 2000]
    got = []
    for p in logs.get_paginator("filter_log_events").paginate(
            logGroupName="f", PaginationConfig={"PageSize": 2}):
        got += [e["timestamp"] for e in p["events"]]
    assert got == [1000, 1001, 1002, 2000, 2001]


@pytest.mark.parametrize("pattern", ['"unterminated', "{ $.a = 1 }", "[a, b]",
                                     "x" * (FILTER_MAX + 1),
                                     " ".join(["t"] * (FILTER_TERMS_MAX + 1))])
def test_filter_bad_pattern(logs, pattern):
    put_sample(logs)
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        logs.filter_log_events(logGroupName="f", filterPattern=pattern)
    assert error_code(ei) == "InvalidParameterException"


def test_filter_limits_accepted(logs):
    put_sample(logs)
    assert logs.filter_log_events(logGroupName="f",
                                  filterPattern=" ".join(["ERROR"] * FILTER_TERMS_MAX))["events"]
    pat = "E" + " " * (FILTER_MAX - 2) + "R"
    logs.filter_log_events(logGroupName="f", filterPattern=pat)


def test_unknown_target(server, logs):
    from conftest import signed_request
    r = signed_request(server, "POST", "/", b"{}", service="logs",
                       headers={"X-Amz-Target": "Logs_20140328.Nope",
                                "Content-Type": "application/x-amz-json-1.1"})
    assert r.status_code == 404 and r.json()["__type"] == "UnknownOperationException"


def test_cli_walkthrough_step7(aws, iot):
    """../shared/acceptance/lifecycle-walkthrough.sh step 7 and its clean-up, with the stock CLI."""
    iot.create_thing_group(thingGroupName="fleet-7")
    r = aws("iot", "set-v2-logging-level", "--log-target",
            '{"targetType":"THING_GROUP","targetName":"fleet-7"}', "--log-level", "INFO")
    assert r.rc == 0, r.err
    r = aws("iot", "list-v2-logging-levels", "--target-type", "THING_GROUP")
    assert any(c["logTarget"]["targetName"] == "fleet-7" and c["logLevel"] == "INFO"
               for c in r.json["logTargetConfigurations"])
    assert aws("logs", "create-log-group", "--log-group-name", "/aws/iot/dm-7").rc == 0
    assert aws("logs", "put-retention-policy", "--log-group-name", "/aws/iot/dm-7",
               "--retention-in-days", "30").rc == 0
    r = aws("logs", "describe-log-groups", "--log-group-name-prefix", "/aws/iot/dm-7")
    assert [(g["logGroupName"], g.get("retentionInDays")) for g in r.json["logGroups"]] == \
        [("/aws/iot/dm-7", 30)]
    r = aws("logs", "delete-log-group", "--log-group-name", "/aws/iot/dm-7")
    assert r.rc == 0, r.err
    r = aws("iot", "delete-v2-logging-level", "--target-type", "THING_GROUP",
            "--target-name", "fleet-7")
    assert r.rc == 0, r.err
    r = aws("logs", "describe-log-groups", "--log-group-name-prefix", "/aws/iot/dm-7")
    assert r.json["logGroups"] == []
    r = aws("logs", "filter-log-events", "--log-group-name", "nope")
    assert r.rc == 254 and "ResourceNotFoundException" in r.err
