"""docs/CONFIGURATION.md documents every option: those of the table in server/config.c (also
checked against `fleetyard-server --help`), the backup/restore options of server/backup.c, and
every variable env.sh exports (server/datadir.c). Adding an option without documenting it
fails here."""
import os
import re
import subprocess

from conftest import ROOT, SERVER_BIN

DOC = os.path.join(ROOT, "docs", "CONFIGURATION.md")


def source(*parts):
    with open(os.path.join(ROOT, *parts)) as f:
        return f.read()


def documented_rows():
    """Names in the first column of the reference's tables."""
    return set(re.findall(r"^\| `([A-Za-z0-9_.-]+)[^`]*` \|", source(DOC), re.M))


def table_options():
    names = re.findall(r'^\s*O\("([a-z0-9-]+)",', source("server", "config.c"), re.M)
    assert len(names) >= 20, "the option table in server/config.c was not found"
    return names


def test_every_server_option_is_documented():
    missing = [n for n in table_options() if n not in documented_rows()]
    assert not missing, f"options missing from docs/CONFIGURATION.md: {missing}"


def test_help_lists_the_same_options():
    p = subprocess.run([SERVER_BIN, "--help"], capture_output=True, text=True, timeout=10)
    assert p.returncode == 0
    in_help = re.findall(r"^  --([a-z0-9-]+)", p.stdout, re.M)
    assert in_help == table_options()
    assert "config" in documented_rows() and "help" in documented_rows()


def test_backup_options_are_documented():
    names = set(re.findall(r'"--([a-z-]+)"', source("server", "backup.c")))
    assert {"out", "from", "step-pages"} <= names
    names -= {"help", "config"}
    missing = sorted(names - documented_rows())
    assert not missing, f"backup/restore options missing from docs/CONFIGURATION.md: {missing}"


def test_env_sh_variables_are_documented():
    names = re.findall(r"export ([A-Z_]+)=", source("server", "datadir.c"))
    assert len(names) >= 7
    missing = [n for n in names if n not in documented_rows()]
    assert not missing, f"env.sh variables missing from docs/CONFIGURATION.md: {missing}"


def test_documented_defaults_match_the_code():
    doc = source(DOC)
    h = source("server", "config.h")
    for opt, macro in (("http-port", "FY_DEFAULT_HTTP_PORT"), ("mqtt-port", "FY_DEFAULT_MQTT_PORT"),
                       ("threads", "FY_DEFAULT_THREADS"),
                       ("thing-type-delete-wait", "FY_DEFAULT_TYPE_DELETE_WAIT")):
        value = re.search(rf"#define {macro}\s+(\d+)", h).group(1)
        row = re.search(rf"^\| `{opt}` \|[^|]*\| `([^`]*)` \|", doc, re.M)
        assert row and row.group(1) == value, (opt, value)
    mosq = re.search(r'#define FY_DEFAULT_MOSQUITTO\s+"([^"]+)"', h).group(1)
    assert re.search(rf"^\| `mosquitto` \|[^|]*\| `{re.escape(mosq)}` \|", doc, re.M)
    steps = re.search(r"#define FY_BACKUP_STEP_PAGES\s+(\d+)", source("server", "backup.h"))
    assert re.search(rf"^\| `step-pages` \|[^|]*\|[^|]*\| `{steps.group(1)}` \|", doc, re.M)
