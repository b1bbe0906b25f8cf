"""Insert batches into ArborDB streams with the official btrdb-python client, for the cluster
failover test (test/cluster/failover.ts). Usage:

    python3 py_writer.py ENDPOINT[,ENDPOINT...] SECONDS BATCH T0_NS STEP_NS UUID [UUID ...]

Connects to the first endpoint (moving to the next one when a call fails, as an application
would when its server goes away) and prints {"ready": true} once connected; the SECONDS start
then. Round-robin over the streams, one insert of BATCH points per call; the times of a stream's
k-th batch start at T0_NS + k * BATCH * STEP_NS, so no two batches overlap. Prints one JSON line
per call: {"s": uuid, "t0": first time, "n": points, "v": version} when the server acknowledged
it, or the same with "err" instead of "v" when the call failed (the points may or may not be
stored).
"""
import json
import sys
import time

import btrdb


def connect(endpoints, at, deadline):
    """btrdb.connect to endpoints[at % n], trying the next ones until the deadline."""
    while True:
        try:
            conn = btrdb.connect(endpoints[at % len(endpoints)])
            return conn, at
        except Exception:  # noqa: BLE001 - a node may be down: try the next one
            if time.time() > deadline:
                raise
            at += 1
            time.sleep(0.2)


def main():
    endpoints = sys.argv[1].split(",")
    seconds, batch, t0, step = float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    uuids = sys.argv[6:]
    conn, at = connect(endpoints, 0, time.time() + 60)
    print(json.dumps({"ready": True}), flush=True)
    end = time.time() + seconds
    k = 0
    while time.time() < end:
        for u in uuids:
            first = t0 + k * batch * step
            points = [(first + i * step, float((first // step + i) % 1000) / 7.0) for i in range(batch)]
            line = {"s": u, "t0": str(first), "n": batch}
            try:
                line["v"] = int(conn.stream_from_uuid(u).insert(points))
            except Exception as e:  # noqa: BLE001 - every failure is reported, none is fatal
                line["err"] = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
                time.sleep(0.2)
                conn, at = connect(endpoints, at + 1, end + 30)
            print(json.dumps(line), flush=True)
        k += 1


if __name__ == "__main__":
    main()
