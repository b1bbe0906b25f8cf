"""Write and read throughput of the unmodified openhistorian Python client against a SNAPdb
server. Usage: PYTHONPATH=<client>/src python3 bench.py HOST PORT POINTS [INSTANCE]
Writes POINTS points (10 point IDs, 30/s each) with instance.Write() one by one — the client's
only write API for single points — then reads them all back with one Read(). Prints one JSON line.
The write time runs until a following 1-point read returns: the server inserts pending writes
before answering a read, so by then every point is stored."""
import json
import sys
import time
from datetime import datetime

import numpy as np
from gsf import Ticks
from openHistorian.historianConnection import historianConnection
from openHistorian.historianKey import historianKey
from openHistorian.historianValue import historianValue
from snapDB.readerOptions import readerOptions

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
name = sys.argv[4] if len(sys.argv) > 4 else "PPA"
h = historianConnection(f"snapdb:{host}:{port}")
h.Connect()
instance = h.OpenInstance(name)
base = int(Ticks.FromDateTime(datetime(2025, 1, 1)))
key, value = historianKey(), historianValue()
t0 = time.perf_counter()
for i in range(n):
    key.Timestamp = np.uint64(base + (i // 10) * 333_333)
    key.PointID = np.uint64(1 + i % 10)
    value.AsSingle = np.float32(i * 0.5)
    value.Value3 = np.uint64(i & 0xFF)
    instance.Write(key, value)
reader = instance.Read(None, None, readerOptions(maxReturnedCount=1))
while reader.Read(historianKey(), historianValue()):
    pass
write_s = time.perf_counter() - t0
t0 = time.perf_counter()
reader = instance.Read(None, None)
k, v = historianKey(), historianValue()
count = 0
while reader.Read(k, v):
    count += 1
read_s = time.perf_counter() - t0
instance.Dispose()
h.Disconnect()
if count != n:
    print(f"bench.py: read {count} points, wrote {n}", file=sys.stderr)
    sys.exit(1)
print(json.dumps({"points": n, "write_s": write_s, "read_s": read_s, "write_pps": n / write_s, "read_pps": n / read_s}))
