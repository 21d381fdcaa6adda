"""DescribeEndpoint answers the broker host for the data endpoints and refuses what fleetyard
does not serve."""
import pytest
from botocore.exceptions import ClientError

from conftest import error_code


def test_describe_endpoint_types(iot, server):
    host = server.env["FLEETYARD_MQTT_HOST"]
    assert iot.describe_endpoint()["endpointAddress"] == host
    for t in ("iot:Data-ATS", "iot:Data", "iot:Jobs"):
        assert iot.describe_endpoint(endpointType=t)["endpointAddress"] == host
    a = iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
    assert a == iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]


def test_describe_endpoint_unserved_types(iot):
    for t in ("iot:CredentialProvider", "iot:Nope"):
        with pytest.raises(ClientError) as e:
            iot.describe_endpoint(endpointType=t)
        assert error_code(e) == "InvalidRequestException"


def test_describe_endpoint_cli(aws, server):
    r = aws("iot", "describe-endpoint", "--endpoint-type", "iot:Data-ATS")
    assert r.rc == 0 and r.json["endpointAddress"] == server.env["FLEETYARD_MQTT_HOST"]
