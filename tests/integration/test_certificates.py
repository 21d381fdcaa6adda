"""Certificates and CA certificates through boto3 and /usr/bin/aws: issuance, CSR signing,
registration, status transitions, deletion rules, listings, and the root CA download."""
import json

import pytest
import requests
from botocore.exceptions import ClientError

from certs_util import Workdir, cert_id_of
from conftest import error_code


@pytest.fixture
def wd():
    return Workdir()


def cert_count(iot):
    return len(iot.list_certificates(pageSize=250)["certificates"])


def test_create_keys_and_certificate(iot, aws, server, wd):
    r = aws("iot", "create-keys-and-certificate", "--set-as-active")
    assert r.rc == 0, r.err
    out = r.json
    cid = out["certificateId"]
    assert cid == cert_id_of(out["certificatePem"]) and len(cid) == 64
    assert out["certificateArn"] == f"arn:aws:iot:us-east-1:123456789012:cert/{cid}"
    assert "BEGIN RSA PRIVATE KEY" in out["keyPair"]["PrivateKey"]
    assert "BEGIN PUBLIC KEY" in out["keyPair"]["PublicKey"]
    assert wd.verify(server.env["FLEETYARD_ROOT_CA"], out["certificatePem"])
    assert wd.pubkey_of_cert_pem(out["certificatePem"]) == out["keyPair"]["PublicKey"]
    d = iot.describe_certificate(certificateId=cid)["certificateDescription"]
    assert d["status"] == "ACTIVE" and d["certificatePem"] == out["certificatePem"]
    assert d["ownedBy"] == "123456789012" and d["certificateMode"] == "DEFAULT"
    assert d["validity"]["notAfter"] > d["validity"]["notBefore"]
    inactive = iot.create_keys_and_certificate()["certificateId"]
    assert iot.describe_certificate(certificateId=inactive)["certificateDescription"][
        "status"] == "INACTIVE"


def test_create_certificate_from_csr(iot, wd, server):
    csr = wd.make_csr()
    out = iot.create_certificate_from_csr(certificateSigningRequest=csr, setAsActive=True)
    assert out["certificateId"] == cert_id_of(out["certificatePem"])
    assert wd.pubkey_of_cert_pem(out["certificatePem"]) == wd.pubkey_of_csr("dev")
    assert wd.verify(server.env["FLEETYARD_ROOT_CA"], out["certificatePem"])


def test_bad_csr_changes_nothing(iot, aws):
    before = cert_count(iot)
    with pytest.raises(ClientError) as e:
        iot.create_certificate_from_csr(certificateSigningRequest="-----BEGIN CERTIFICATE REQUEST-----\nnope\n-----END CERTIFICATE REQUEST-----\n")
    assert error_code(e) == "InvalidRequestException"
    r = aws("iot", "create-certificate-from-csr", "--certificate-signing-request", "garbage")
    assert r.rc != 0 and "InvalidRequestException" in r.err
    assert cert_count(iot) == before


def test_status_transitions(iot):
    cid = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    status = lambda: iot.describe_certificate(certificateId=cid)["certificateDescription"]["status"]
    iot.update_certificate(certificateId=cid, newStatus="INACTIVE")
    assert status() == "INACTIVE"
    iot.update_certificate(certificateId=cid, newStatus="ACTIVE")
    assert status() == "ACTIVE"
    for internal in ("PENDING_TRANSFER", "PENDING_ACTIVATION"):
        with pytest.raises(ClientError) as e:
            iot.update_certificate(certificateId=cid, newStatus=internal)
        assert error_code(e) == "CertificateStateException"
    iot.update_certificate(certificateId=cid, newStatus="REVOKED")
    assert status() == "REVOKED"
    with pytest.raises(ClientError) as e:
        iot.update_certificate(certificateId=cid, newStatus="ACTIVE")
    assert error_code(e) == "CertificateStateException"
    assert status() == "REVOKED"
    with pytest.raises(ClientError) as e:
        iot.update_certificate(certificateId="0" * 64, newStatus="ACTIVE")
    assert error_code(e) == "ResourceNotFoundException"


def test_delete_rules(iot, aws):
    out = iot.create_keys_and_certificate(setAsActive=True)
    cid, arn = out["certificateId"], out["certificateArn"]
    r = aws("iot", "delete-certificate", "--certificate-id", cid)
    assert r.rc != 0 and "CertificateStateException" in r.err
    iot.update_certificate(certificateId=cid, newStatus="INACTIVE")
    iot.create_thing(thingName="holder")
    iot.attach_thing_principal(thingName="holder", principal=arn)
    with pytest.raises(ClientError) as e:
        iot.delete_certificate(certificateId=cid)
    assert error_code(e) == "DeleteConflictException"
    iot.detach_thing_principal(thingName="holder", principal=arn)
    iot.delete_certificate(certificateId=cid)
    with pytest.raises(ClientError) as e:
        iot.describe_certificate(certificateId=cid)
    assert error_code(e) == "ResourceNotFoundException"


def test_bad_certificate_id(iot):
    with pytest.raises(ClientError) as e:
        iot.describe_certificate(certificateId="z" * 64)
    assert error_code(e) == "InvalidRequestException"


def test_list_certificates_pagination(iot, aws):
    ids = [iot.create_keys_and_certificate()["certificateId"] for _ in range(5)]
    seen, marker = [], None
    while True:
        kw = {"pageSize": 2, "ascendingOrder": True}
        if marker:
            kw["marker"] = marker
        page = iot.list_certificates(**kw)
        assert len(page["certificates"]) <= 2
        seen += [c["certificateId"] for c in page["certificates"]]
        marker = page.get("nextMarker")
        if not marker:
            break
    assert seen == ids
    # (with --page-size the stock CLI sends one request: pageSize is the operation's own limit
    # parameter and shadows the CLI's pagination option)
    r = aws("iot", "list-certificates")
    assert r.rc == 0 and sorted(c["certificateId"] for c in r.json["certificates"]) == sorted(ids)
    desc = iot.list_certificates(ascendingOrder=False)["certificates"]
    assert [c["certificateId"] for c in desc] == ids[::-1]


def register_test_ca(iot, wd, name="ca", active=True):
    ca_pem = wd.make_ca(name, cn=name + " CA")
    code = iot.get_registration_code()["registrationCode"]
    wd.make_csr(name + "-verif", cn=code)
    verif = wd.sign(name + "-verif", ca=name)
    out = iot.register_ca_certificate(caCertificate=ca_pem, verificationCertificate=verif,
                                      setAsActive=active)
    return out, ca_pem


def test_register_ca_and_device_certificates(iot, wd):
    out, ca_pem = register_test_ca(iot, wd)
    ca_id = out["certificateId"]
    assert ca_id == cert_id_of(ca_pem)
    assert out["certificateArn"].endswith(":cacert/" + ca_id)
    d = iot.describe_ca_certificate(certificateId=ca_id)["certificateDescription"]
    assert d["status"] == "ACTIVE" and d["autoRegistrationStatus"] == "DISABLE"
    assert [c["certificateId"] for c in iot.list_ca_certificates()["certificates"]] == [ca_id]
    wd.make_csr("dev1")
    dev = wd.sign("dev1", ca="ca")
    reg = iot.register_certificate(certificatePem=dev, status="ACTIVE")
    assert reg["certificateId"] == cert_id_of(dev)
    desc = iot.describe_certificate(certificateId=reg["certificateId"])["certificateDescription"]
    assert desc["caCertificateId"] == ca_id and desc["status"] == "ACTIVE"
    by_ca = iot.list_certificates_by_ca(caCertificateId=ca_id)["certificates"]
    assert [c["certificateId"] for c in by_ca] == [reg["certificateId"]]
    with pytest.raises(ClientError) as e:
        iot.register_certificate(certificatePem=dev)
    assert error_code(e) == "ResourceAlreadyExistsException"
    # CA deletion rules
    with pytest.raises(ClientError) as e:
        iot.delete_ca_certificate(certificateId=ca_id)
    assert error_code(e) == "CertificateStateException"
    iot.update_ca_certificate(certificateId=ca_id, newStatus="INACTIVE",
                              newAutoRegistrationStatus="ENABLE")
    d = iot.describe_ca_certificate(certificateId=ca_id)["certificateDescription"]
    assert d["status"] == "INACTIVE" and d["autoRegistrationStatus"] == "ENABLE"
    with pytest.raises(ClientError) as e:
        iot.delete_ca_certificate(certificateId=ca_id)
    assert error_code(e) == "CertificateStateException"  # a device certificate still uses it
    iot.update_certificate(certificateId=reg["certificateId"], newStatus="INACTIVE")
    iot.delete_certificate(certificateId=reg["certificateId"])
    iot.delete_ca_certificate(certificateId=ca_id)
    assert iot.list_ca_certificates()["certificates"] == []


def test_certificate_from_unregistered_ca_is_refused(iot, wd):
    register_test_ca(iot, wd, "good")
    wd.make_ca("rogue")
    wd.make_csr("dev2")
    dev = wd.sign("dev2", ca="rogue")
    before = cert_count(iot)
    with pytest.raises(ClientError) as e:
        iot.register_certificate(certificatePem=dev)
    assert error_code(e) == "CertificateValidationException"
    with pytest.raises(ClientError) as e:
        iot.register_certificate(certificatePem=dev, caCertificatePem=wd.read("rogue.crt"))
    assert error_code(e) == "CertificateValidationException"
    assert cert_count(iot) == before


def test_certificate_of_inactive_ca_is_refused(iot, wd):
    register_test_ca(iot, wd, "sleepy", active=False)
    wd.make_csr("dev3")
    dev = wd.sign("dev3", ca="sleepy")
    with pytest.raises(ClientError) as e:
        iot.register_certificate(certificatePem=dev)
    assert error_code(e) == "CertificateStateException"


def test_register_ca_bad_verification(iot, wd):
    ca_pem = wd.make_ca("ca2")
    wd.make_csr("v", cn="not-the-code")
    verif = wd.sign("v", ca="ca2")
    with pytest.raises(ClientError) as e:
        iot.register_ca_certificate(caCertificate=ca_pem, verificationCertificate=verif)
    assert error_code(e) == "RegistrationCodeValidationException"
    with pytest.raises(ClientError) as e:
        iot.register_ca_certificate(caCertificate=ca_pem)
    assert error_code(e) == "InvalidRequestException"
    wd.make_csr("leaf")
    leaf = wd.sign("leaf", ca="ca2")
    with pytest.raises(ClientError) as e:
        iot.register_ca_certificate(caCertificate=leaf, certificateMode="SNI_ONLY")
    assert error_code(e) == "CertificateValidationException"
    out = iot.register_ca_certificate(caCertificate=ca_pem, certificateMode="SNI_ONLY",
                                      tags=[{"Key": "site", "Value": "plant-1"}])
    d = iot.describe_ca_certificate(certificateId=out["certificateId"])["certificateDescription"]
    assert d["certificateMode"] == "SNI_ONLY"
    assert iot.list_tags_for_resource(resourceArn=out["certificateArn"])["tags"] == [
        {"Key": "site", "Value": "plant-1"}]
    assert iot.get_registration_code()["registrationCode"] == \
        iot.get_registration_code()["registrationCode"]


def test_register_without_ca(iot, wd):
    wd.make_ca("other")
    wd.make_csr("d4")
    dev = wd.sign("d4", ca="other")
    out = iot.register_certificate_without_ca(certificatePem=dev, status="ACTIVE")
    d = iot.describe_certificate(certificateId=out["certificateId"])["certificateDescription"]
    assert d["certificateMode"] == "SNI_ONLY" and "caCertificateId" not in d
    with pytest.raises(ClientError) as e:
        iot.register_certificate_without_ca(certificatePem="garbage")
    assert error_code(e) == "CertificateValidationException"


def test_root_ca_download(server):
    r = requests.get(server.endpoint + "/fleetyard/ca.pem", timeout=5)
    assert r.status_code == 200
    with open(server.env["FLEETYARD_ROOT_CA"]) as f:
        assert r.text == f.read()
