"""A strict reader of the Prometheus text exposition format 0.0.4 for the metrics tests.

parse(text) checks every line: `# HELP name text` then `# TYPE name counter|gauge|histogram|
summary|untyped` once per family and before its samples; samples `name{k="v",...} value`
with valid metric and label names, escaped label values, a float value (or +Inf/-Inf/NaN) and
an optional integer timestamp; each family's samples contiguous; no series twice; counter
samples end in _total and are >= 0; histograms have, per label set, le buckets in ascending
order ending with +Inf, non-decreasing counts, and _count equal to the +Inf bucket.
Returns {family: {"type", "help", "samples": [(name, labels dict, label text, value)]}}.
"""
import math
import re

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(r"^(%s)(\{(?:%s(?:,%s)*)?,?\})? (\S+)(?: (-?\d+))?$" % (NAME, LABEL, LABEL))
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def value_of(s):
    if s in ("+Inf", "-Inf", "NaN"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    assert re.match(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$", s), "bad value %r" % s
    f = float(s)
    return int(f) if re.match(r"^-?\d+$", s) else f


def family_of(name, families):
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and families.get(base, {}).get("type") == "histogram":
            return base
    return name


def check_histogram(fam, samples):
    series = {}
    for name, labels, _, v in samples:
        key = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
        s = series.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if name == fam + "_bucket":
            s["buckets"].append((value_of(labels["le"]), v))
        elif name == fam + "_sum":
            s["sum"] = v
        elif name == fam + "_count":
            s["count"] = v
        else:
            raise AssertionError("%s in histogram %s" % (name, fam))
    for key, s in series.items():
        les = [le for le, _ in s["buckets"]]
        counts = [c for _, c in s["buckets"]]
        assert les and les == sorted(les) and les[-1] == math.inf, (fam, key, les)
        assert counts == sorted(counts), (fam, key, counts)
        assert s["count"] == counts[-1], (fam, key, s["count"], counts[-1])
        assert s["sum"] is not None and s["sum"] >= 0, (fam, key)


def parse(text):
    assert text.endswith("\n"), "the exposition ends with a newline"
    families, seen, done, current = {}, set(), set(), None
    for line in text.splitlines():
        if line.startswith("#"):
            m = re.match(r"^# (HELP|TYPE) (%s) (.*)$" % NAME, line)
            assert m, line
            kind, name, rest = m.groups()
            f = families.setdefault(name, {"type": None, "help": None, "samples": []})
            assert not f["samples"], "%s after samples of %s" % (kind, name)
            if kind == "HELP":
                assert f["help"] is None, "second HELP for %s" % name
                f["help"] = rest
            else:
                assert f["type"] is None and rest in TYPES, line
                f["type"] = rest
            continue
        assert line.strip(), "empty line"
        m = SAMPLE.match(line)
        assert m, "bad sample line %r" % line
        name, label_text, raw = m.group(1), m.group(2) or "", m.group(7)
        labels = dict(re.findall(LABEL, label_text))
        assert len(labels) == len(re.findall(LABEL, label_text)), "label twice: %s" % line
        fam = family_of(name, families)
        assert fam in families and families[fam]["type"], "sample before TYPE: %s" % line
        if fam != current:
            assert fam not in done, "samples of %s are not contiguous" % fam
            if current:
                done.add(current)
            current = fam
        key = (name, tuple(sorted(labels.items())))
        assert key not in seen, "series twice: %s" % line
        seen.add(key)
        v = value_of(raw)
        if families[fam]["type"] == "counter":
            assert name.endswith("_total") and v >= 0, line
        families[fam]["samples"].append((name, labels, label_text, v))
    for fam, f in families.items():
        assert f["type"] and f["help"] is not None, "family %s lacks HELP or TYPE" % fam
        if f["type"] == "histogram":
            check_histogram(fam, f["samples"])
    return families


def flat(families):
    """{name + label text: value} over every sample."""
    return {name + text: v for f in families.values() for name, _, text, v in f["samples"]}
