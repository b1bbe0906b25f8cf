"""Drive the unmodified btrdb-python client through the usage documented in the btrdb-python v5
docs (shared/seeds/001_*.txt: Quick Start, "Working with btrdb") against a running server, and
check every answer against values computed independently here (plain Python, no server logic).

Connection: btrdb.connect() with BTRDB_ENDPOINTS / BTRDB_API_KEY (run.sh sets them). Everything
this script creates lives under a fresh collection prefix and is obliterated at the end.
Exit status 0 when every check passed, 1 otherwise. Needs no pyarrow (non-Arrow calls only).
"""

import math
import os
import re
import sys
import uuid

import btrdb
from btrdb.utils.timez import currently_as_ns

failures = []
passed = 0


def check(name, ok, detail=""):
    global passed
    if ok:
        passed += 1
        print(f"ok   - {name}")
    else:
        failures.append(name)
        print(f"FAIL - {name} {detail}")


def stats(time, values):
    """min, mean, max, count, population stddev of one window (count 0 -> zeros), two-pass."""
    n = len(values)
    if n == 0:
        return (time, 0.0, 0.0, 0.0, 0, 0.0)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / n
    return (time, min(values), mean, max(values), n, math.sqrt(var))


def close(a, b, tol=1e-9):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def same_stat(sp, ref):
    t, mn, mean, mx, cnt, sd = ref
    return sp.time == t and sp.count == cnt and close(sp.min, mn) and close(sp.mean, mean) and close(sp.max, mx) and close(sp.stddev, sd)


# --- connecting ------------------------------------------------------------------------------------
conn = btrdb.connect()
info = conn.info()
check("connect() with BTRDB_ENDPOINTS/BTRDB_API_KEY and info()", info["majorVersion"] == 5 and "build" in info, info)

prefix = f"seed_usage/{uuid.uuid4().hex[:8]}"
collection = f"{prefix}/NORTHWEST/90001"

# --- creating streams (docs: conn.create(uuid=uuid.uuid4(), collection=..., tags={...})) ----------
s0 = conn.create(uuid=uuid.uuid4(), collection=collection, tags={"name": "L1MAG", "unit": "volts"})
s1 = conn.create(
    uuid=uuid.uuid4(), collection=collection, tags={"name": "L2MAG", "unit": "amps"}, annotations={"poc": "Salvatore"}
)
check("create() returns a stream with the given name and collection", s0.name == "L1MAG" and s0.collection == collection)
tags = s0.tags(refresh=True)
check("tags(refresh=True) has name, unit and ingress ''", tags == {"name": "L1MAG", "unit": "volts", "ingress": ""}, tags)
ann, pv = s1.annotations()
check("annotations() round-trip at property version 1", ann == {"poc": "Salvatore"} and pv == 1, (ann, pv))
check("stream_from_uuid() finds the stream", conn.stream_from_uuid(str(s0.uuid)).exists())

# --- inserting (docs: stream.insert([(time, value), ...]) returns the version) --------------------
T0 = 1500000000000000000
STEP = 100000000
pts0 = [(T0 + i * STEP, float(i + 1)) for i in range(10)]  # the docs' values 1.0 … 10.0
pts1 = [(T0 + i * STEP + STEP // 2, float(10 * (i + 1))) for i in range(10)]  # interleaved times
v0 = s0.insert(pts0)
s1.insert(list(reversed(pts1)))  # any order is accepted
check("insert() returns a positive version", isinstance(v0, int) and v0 > 0, v0)

# --- values ----------------------------------------------------------------------------------------
start, end = T0, T0 + 10 * STEP
got = [(p.time, p.value) for p, _ in s0.values(start, end)]
check("values(start, end) returns the inserted points in order", got == pts0, got[:3])
got1 = [(p.time, p.value) for p, _ in s1.values(start, end)]
check("values() of a stream inserted out of order is sorted", got1 == pts1)
half = [(p.time, p.value) for p, _ in s0.values(T0 + 2 * STEP, T0 + 5 * STEP)]
check("values() range is half-open [start, end)", half == pts0[2:5], half)

# --- aligned windows (docs example: pointwidth 28 from 1.5e18) --------------------------------------
pw = 28
aw = [p for p, _ in s0.aligned_windows(start=T0, end=T0 + 9 * STEP, pointwidth=pw)]
lo, hi = (T0 >> pw) << pw, ((T0 + 9 * STEP) >> pw) << pw
groups = {}
for t, v in pts0:
    w = (t >> pw) << pw
    if lo <= w < hi:
        groups.setdefault(w, []).append(v)
ref = [stats(w, groups[w]) for w in sorted(groups)]
check(
    "aligned_windows() equals independently computed windows",
    len(aw) == len(ref) and all(same_stat(a, r) for a, r in zip(aw, ref)),
    [(a.time, a.count, a.mean) for a in aw],
)
check("aligned_windows() matches the docs' first window 1499999999814008832", aw and aw[0].time == 1499999999814008832)
check("aligned_windows() stddev of 2, 3, 4 is 0.816496580927726", len(aw) > 1 and close(aw[1].stddev, 0.816496580927726))

# --- windows ---------------------------------------------------------------------------------------
width = 3 * STEP
wins = [p for p, _ in s0.windows(start=start, end=end, width=width, depth=0)]
nwin = (end - start) // width
ref = [stats(start + k * width, [v for t, v in pts0 if start + k * width <= t < start + (k + 1) * width]) for k in range(nwin)]
check(
    "windows(width, depth=0) equals independently computed windows (last partial window dropped)",
    len(wins) == nwin and all(same_stat(a, r) for a, r in zip(wins, ref)),
    [(a.time, a.count) for a in wins],
)
# count() sums aligned windows (pointwidth 62 by default: an approximation the docs describe);
# precise=True uses one window of exactly [start, end).
check("count() and count(precise=True) count every point", s0.count() == 10 and s0.count(start, end, precise=True) == 10)

# --- nearest, earliest, latest ---------------------------------------------------------------------
p, _ = s0.nearest(T0 + STEP + 1, version=0, backward=False)
check("nearest() forward finds the next point", (p.time, p.value) == pts0[2], p)
p, _ = s0.nearest(T0 + STEP, version=0, backward=True)
check("nearest() backward finds the previous point (strictly before)", (p.time, p.value) == pts0[0], p)
check("nearest() past the last point returns None", s0.nearest(T0 + 100 * STEP, version=0, backward=False) is None)
e, _ = s0.earliest()
l, _ = s0.latest()
check("earliest() and latest()", (e.time, l.time) == (pts0[0][0], pts0[-1][0]), (e, l))

# --- versions --------------------------------------------------------------------------------------
s0.flush()
v_before = s0.version()
s0.delete(T0 + 9 * STEP, T0 + 10 * STEP)
check("delete() removes points from the latest version", [p.time for p, _ in s0.values(start, end)] == [t for t, _ in pts0[:9]])
old = [(p.time, p.value) for p, _ in s0.values(start, end, version=v_before)]
check("values(version=old) still shows the deleted point", old == pts0, len(old))

# --- updating metadata (docs: stream.update(collection=..., annotations=...)) ----------------------
moved = f"{prefix}/NORTHEAST/VERMONT"
annotations = {"owner": "Salvatore McFesterson", "state": "VT", "created": "2018-01-01 12:42:03 -0500"}
pv_new = s1.update(collection=moved, annotations=annotations)
s1.refresh_metadata()
ann, pv = s1.annotations()
check("update(collection, annotations) moves the stream and upserts", s1.collection == moved and ann["state"] == "VT" and ann["poc"] == "Salvatore", (s1.collection, ann))
check("update() raises the property version", pv > 1 and pv_new == pv, (pv_new, pv))
del ann["poc"]
s1.update(annotations=ann, replace=True)
ann2, _ = s1.annotations()
check("update(annotations, replace=True) removes keys", "poc" not in ann2 and ann2["owner"] == "Salvatore McFesterson", ann2)

# --- finding streams -------------------------------------------------------------------------------
found = conn.streams_in_collection(prefix)
check("streams_in_collection(prefix) finds both streams", sorted(s.name for s in found) == ["L1MAG", "L2MAG"])
volts = conn.streams_in_collection(prefix, tags={"unit": "volts"})
check("streams_in_collection(tags=...) filters", [s.name for s in volts] == ["L1MAG"])
check("list_collections(starts_with)", sorted(conn.list_collections(starts_with=prefix)) == sorted([collection, moved]))
rows = conn.query(
    "select uuid, name from streams where (name = $1 or name = $2) and collection like $3",
    ["L1MAG", "L2MAG", prefix + "/%"],
)
check(
    "query() returns dict rows keyed by column",
    sorted((r["name"], str(r["uuid"])) for r in rows) == sorted([("L1MAG", str(s0.uuid)), ("L2MAG", str(s1.uuid))]),
    rows,
)

# --- StreamSets -------------------------------------------------------------------------------------
ss = conn.streams(str(s0.uuid), str(s1.uuid)).filter(start=start, end=T0 + 9 * STEP)
vals = ss.values()
check("StreamSet.filter(start, end).values() per stream", [[(p.time, p.value) for p in v] for v in vals] == [pts0[:9], pts1[:9]])
check("StreamSet.filter(unit='volts')", [s.name for s in ss.filter(unit="volts")] == ["L1MAG"])
check("StreamSet.filter(unit=re.compile('volts|amps'))", len(ss.filter(unit=re.compile("volts|amps"))) == 2)
alt = conn.streams(str(s0.uuid)).filter(start=0, end=currently_as_ns())
check("StreamSet.filter(start=0, end=now).count(precise=True)", alt.count(precise=True) == 9, alt.count(precise=True))
try:
    import pandas  # noqa: F401

    df = ss.to_dataframe()
    times = sorted({t for t, _ in pts0[:9]} | {t for t, _ in pts1[:9]})
    col0, col1 = f"{collection}/L1MAG", f"{moved}/L2MAG"
    exp0 = dict(pts0[:9])
    exp1 = dict(pts1[:9])
    ok = list(df.index) == times and list(df.columns) == [col0, col1]
    for t in times:
        a, b = df.loc[t, col0], df.loc[t, col1]
        ok = ok and ((t in exp0 and a == exp0[t]) or (t not in exp0 and math.isnan(a)))
        ok = ok and ((t in exp1 and b == exp1[t]) or (t not in exp1 and math.isnan(b)))
    check("StreamSet.to_dataframe() joins on time with NaN where a stream has no point", ok, df.head())
except ImportError:
    check("pandas is importable for to_dataframe()", False)

# --- obliterate ------------------------------------------------------------------------------------
s0.obliterate()
s1.obliterate()
check("obliterate() removes the streams", not conn.stream_from_uuid(str(s0.uuid)).exists())
check("an emptied collection leaves list_collections()", conn.list_collections(starts_with=prefix) == [])

print(f"seed_usage: {passed} passed, {len(failures)} failed")
if failures:
    print("failed: " + "; ".join(failures))
sys.exit(1 if failures else 0)
