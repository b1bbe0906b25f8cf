"""Ingest throughput of the official btrdb-python client against `arbor serve`.

Run by run.sh with ARBOR_COMPAT_BENCH_ONLY=1 (npm run bench runs it). Inserts STREAMS x POINTS points
of the benchmark workload's shape (120 Hz, +-1000 ns jitter, 7200 + 5 sin(2 pi 60.05 t) + noise) with
`Stream.insert` (protobuf Insert, 50,000-point calls) and, when real pyarrow is importable,
`Stream.arrow_insert`; every insert is acknowledged only after the server's fsync. Reads the counts
back to check, prints one JSON line.
"""
import json
import math
import os
import random
import time
import uuid

import btrdb

STREAMS = int(os.environ.get("BENCH_STREAMS", "4"))
POINTS = int(os.environ.get("BENCH_POINTS", "250000"))
T0 = 1_704_067_200_000_000_000

def series(seed):
    rnd = random.Random(seed)
    phase = rnd.random() * 2 * math.pi
    out = []
    for i in range(POINTS):
        off = i * 8_333_333 + round((rnd.random() * 2 - 1) * 1000)
        v = 7200 + 5 * math.sin(2 * math.pi * 60.05 * off / 1e9 + phase) + (rnd.random() + rnd.random() - 1) * 0.1
        out.append((T0 + off, v))
    return out

def main():
    conn = btrdb.connect()
    data = [series(s) for s in range(STREAMS)]
    coll = f"bench/python/{uuid.uuid4().hex[:8]}"
    result = {"bench": "python-ingest", "streams": STREAMS, "pointsPerStream": POINTS}
    streams = [conn.create(uuid.uuid4(), f"{coll}/proto", tags={"name": f"s{s}"}) for s in range(STREAMS)]
    t = time.perf_counter()
    for s, st in enumerate(streams):
        st.insert(data[s])
    result["insertPtsPerS"] = STREAMS * POINTS / (time.perf_counter() - t)
    for st in streams:
        st.flush()
        assert st.count(precise=True) == POINTS, "point count after insert"
    try:
        import pyarrow as pa
        if not hasattr(pa, "table"):
            raise ImportError("stand-in")
        tables = [
            pa.table({
                "time": pa.array([p[0] for p in d], type=pa.timestamp("ns", tz="UTC")),
                "value": pa.array([p[1] for p in d], type=pa.float64()),
            })
            for d in data
        ]
        astreams = [conn.create(uuid.uuid4(), f"{coll}/arrow", tags={"name": f"s{s}"}) for s in range(STREAMS)]
        t = time.perf_counter()
        for s, st in enumerate(astreams):
            st.arrow_insert(tables[s])
        result["arrowInsertPtsPerS"] = STREAMS * POINTS / (time.perf_counter() - t)
        for st in astreams:
            st.flush()
            assert st.count(precise=True) == POINTS, "point count after arrow_insert"
    except ImportError:
        result["arrowInsertPtsPerS"] = None
    for st in conn.streams_in_collection(coll):
        st.obliterate()
    print(json.dumps(result))

if __name__ == "__main__":
    main()
