"""Test helpers that make keys, CAs, CSRs and certificates with the openssl command line, so
the server is checked against an independent implementation."""
import hashlib
import os
import ssl
import subprocess
import tempfile


def openssl(*args, cwd=None, input=None):
    p = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, input=input)
    assert p.returncode == 0, p.stderr
    return p.stdout


def cert_id_of(pem):
    """certificateId as AWS computes it: lowercase hex SHA-256 of the DER."""
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


class Workdir:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="fy-pki-")

    def path(self, name):
        return os.path.join(self.dir, name)

    def read(self, name):
        with open(self.path(name)) as f:
            return f.read()

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return self.path(name)

    def make_ca(self, name="ca", cn="Test CA"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self.path(name + ".key"),
                "-out", self.path(name + ".crt"), "-days", "30", "-subj", "/CN=" + cn,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return self.read(name + ".crt")

    def make_csr(self, name="dev", cn="device"):
        openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", self.path(name + ".key"),
                "-out", self.path(name + ".csr"), "-subj", "/CN=" + cn)
        return self.read(name + ".csr")

    def sign(self, csr_name, ca="ca", out=None, days=30):
        out = out or csr_name + ".crt"
        openssl("x509", "-req", "-in", self.path(csr_name + ".csr"), "-CA", self.path(ca + ".crt"),
                "-CAkey", self.path(ca + ".key"), "-CAcreateserial", "-out", self.path(out),
                "-days", str(days))
        return self.read(out)

    def pubkey_of_csr(self, name):
        return openssl("req", "-in", self.path(name + ".csr"), "-pubkey", "-noout")

    def pubkey_of_cert_pem(self, pem):
        return openssl("x509", "-pubkey", "-noout", input=pem)

    def verify(self, ca_file, pem):
        p = subprocess.run(["openssl", "verify", "-CAfile", ca_file], input=pem, text=True,
                           capture_output=True)
        return p.returncode == 0 and "OK" in p.stdout
