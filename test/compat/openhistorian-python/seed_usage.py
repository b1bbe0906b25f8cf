"""The openhistorian Python client's documented operations (its README, tests/readTest.py and
tests/writeTest.py, and the SNAPdb filters it exposes) against `arbor serve --snapdb`, with every
answer checked against values computed here, independently of the server.

Usage: PYTHONPATH=<client>/src python3 seed_usage.py HOST PORT
Prints one line per check and ends with "seed_usage: N passed, M failed"; exit 1 if any failed.
"""
import random
import struct
import sys
import traceback
from datetime import datetime, timedelta

import numpy as np
from gsf import Ticks
from openHistorian.historianConnection import historianConnection
from openHistorian.historianKey import historianKey
from openHistorian.historianValue import historianValue
from snapDB.enumerations import QualityFlags
from snapDB.pointIDMatchFilter import pointIDMatchFilter
from snapDB.readerOptions import readerOptions
from snapDB.timestampSeekFilter import timestampSeekFilter

HOST, PORT = sys.argv[1], int(sys.argv[2])
# The client parses "host:port" wrongly (docs/protocols/snapdb.md): "anything:host:port" works.
ADDRESS = f"snapdb:{HOST}:{PORT}"
passed = 0
failed = 0


def check(name, fn):
    global passed, failed
    try:
        fn()
        passed += 1
        print(f"PASS {name}")
    except Exception:
        failed += 1
        print(f"FAIL {name}")
        traceback.print_exc()


def f32_bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def connect():
    h = historianConnection(ADDRESS)
    h.Connect()
    return h


def read_all(instance, seek=None, match=None, options=None):
    reader = instance.Read(seek, match, options)
    key, value = historianKey(), historianValue()
    out = []
    while reader.Read(key, value):
        out.append((int(key.Timestamp), int(key.PointID), int(key.EntryNumber), int(value.Value1), int(value.Value2), int(value.Value3)))
    return out


# The data set: 4 points (one ID beyond 32 bits), 30 samples/s for 20 s, written out of order,
# some keys written twice (the later write must win), NaN payloads and quality flags.
BASE = datetime(2024, 3, 1, 12, 0, 0)
BASE_TICKS = int(Ticks.FromDateTime(BASE))
IDS = [1, 2, 3, (1 << 40) + 5]
STEP = 10_000_000 // 30  # ticks
rng = random.Random(7)
expected = {}  # (ticks, id) -> (value1, value3)
writes = []
for i in range(600):
    t = BASE_TICKS + i * STEP
    for pid in IDS:
        bits = f32_bits(np.float32(rng.uniform(-1e4, 1e4)))
        if i % 97 == 0:
            bits = 0x7F800001 if pid % 2 else 0xFFC12345  # signalling / negative quiet NaN payloads
        flags = rng.choice([0, int(QualityFlags.WARNINGHIGH.value), 0x80000000, 0x12345])
        writes.append((t, pid, bits, flags))
rng.shuffle(writes)
rewrites = [(t, pid, f32_bits(np.float32(-1.25)), 7) for (t, pid, _, _) in writes[:50]]
for (t, pid, bits, flags) in writes + rewrites:
    expected[(t, pid)] = (bits, flags)


def expect(keep):
    return [(t, pid, 0, v1, 0, v3) for (t, pid), (v1, v3) in sorted(expected.items()) if keep(t, pid)]


def windows_keep(first, last, main, sub, tol):
    """SNAPdb's strided windows, enumerated window by window (round half to even like .NET)."""
    per_main = round(main / sub)  # Python's round is half-to-even too
    spans = []
    current, count = first, 0
    while True:
        middle = current + sub * count
        start, end = max(middle - tol, 0), middle + tol
        if start > last:
            break
        spans.append((start, end))
        if count + 1 == per_main:
            current, count = current + main, 0
        else:
            count += 1
    return lambda t, pid: any(s <= t <= e for (s, e) in spans)


state = {}


def connect_and_list():
    h = connect()
    assert h.IsConnected
    assert h.InstanceNames[0] == "PPA", h.InstanceNames
    state["h"] = h


def open_instance():
    h = state["h"]
    instance = h.OpenInstance(h.InstanceNames[0])
    assert instance.Name == "PPA"
    state["instance"] = instance


def write_test_point():
    # tests/writeTest.py: one point, value 1000.98, quality WARNINGHIGH, time = now.
    key = historianKey()
    key.PointID = 9
    key.Timestamp = Ticks.FromDateTime(datetime.utcnow())
    value = historianValue()
    value.AsSingle = np.float32(1000.98)
    value.AsQuality = QualityFlags.WARNINGHIGH
    state["instance"].Write(key, value)
    state["now_key"] = int(key.Timestamp)
    got = read_all(state["instance"], timestampSeekFilter(key.Timestamp, key.Timestamp), pointIDMatchFilter.CreateFromList([9]))
    assert len(got) == 1, got
    assert got[0][0] == int(key.Timestamp) and got[0][1] == 9
    v = historianValue()
    v.Value1, v.Value3 = np.uint64(got[0][3]), np.uint64(got[0][5])
    assert v.AsSingle == np.float32(1000.98) and v.AsQuality == QualityFlags.WARNINGHIGH


def write_data_set():
    instance = state["instance"]
    for (t, pid, bits, flags) in writes + rewrites:
        key, value = historianKey(), historianValue()
        key.Timestamp, key.PointID = np.uint64(t), np.uint64(pid)
        value.Value1, value.Value3 = np.uint64(bits), np.uint64(flags)
        instance.Write(key, value)


def read_range_with_points():
    # tests/readTest.py: CreateFromRange + CreateFromList.
    first, last = BASE + timedelta(seconds=2), BASE + timedelta(seconds=5)
    seek = timestampSeekFilter.CreateFromRange(first, last)
    ids = [2, (1 << 40) + 5]
    got = read_all(state["instance"], seek, pointIDMatchFilter.CreateFromList(ids))
    lo, hi = int(seek.firstTime), int(seek.lastTime)
    want = expect(lambda t, pid: lo <= t <= hi and pid in ids)
    assert len(want) > 100 and got == want, (len(got), len(want))


def read_everything():
    got = read_all(state["instance"], None, None)
    want = expect(lambda t, pid: True)
    want_now = [g for g in got if g[1] == 9]
    assert [g for g in got if g[1] != 9] == want, (len(got), len(want))
    assert len(want_now) == 1


def read_all_time_range():
    seek = timestampSeekFilter.CreateFromRange(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59))
    got = read_all(state["instance"], seek, pointIDMatchFilter.CreateFromList(IDS))
    assert got == expect(lambda t, pid: True)


def read_interval():
    # Every 0.5 s ± 20 ms over 10 s.
    seek = timestampSeekFilter.CreateFromRangeInterval(BASE + timedelta(seconds=1), BASE + timedelta(seconds=11), timedelta(seconds=0.5), timedelta(milliseconds=20))
    got = read_all(state["instance"], seek, pointIDMatchFilter.CreateFromList([1, 3]))
    keep = windows_keep(int(seek.firstTime), int(seek.lastTime), int(seek.mainInterval), int(seek.subInterval), int(seek.tolerance))
    want = expect(lambda t, pid: pid in (1, 3) and keep(t, pid))
    assert len(want) > 40 and got == want, (len(got), len(want))


def read_sub_interval():
    # Main 1 s, three sub-windows 0.2 s apart, ± 10 ms, with raw ticks.
    f = int(BASE_TICKS + 3 * 10_000_000)
    seek = timestampSeekFilter(np.uint64(f), np.uint64(f + 8 * 10_000_000), np.uint64(10_000_000), np.uint64(3_333_333), np.uint64(100_000))
    got = read_all(state["instance"], seek, None)
    keep = windows_keep(f, f + 8 * 10_000_000, 10_000_000, 3_333_333, 100_000)
    want = expect(lambda t, pid: keep(t, pid))
    assert len(want) > 50 and got == want, (len(got), len(want))


def read_with_options():
    got = read_all(state["instance"], None, pointIDMatchFilter.CreateFromList([3]), readerOptions(maxReturnedCount=5))
    assert got == expect(lambda t, pid: pid == 3)[:5]


def nan_payloads_survive():
    nans = [k for k, (v1, _) in expected.items() if v1 in (0x7F800001, 0xFFC12345)]
    assert nans
    got = {(g[0], g[1]): g[3] for g in read_all(state["instance"], None, pointIDMatchFilter.CreateFromList(IDS))}
    for k in nans:
        assert got[k] == expected[k][0], (k, hex(got[k]))


def reopen_on_same_connection():
    state["instance"].Dispose()
    instance = state["h"].OpenInstance("PPA")
    state["instance"] = instance
    assert read_all(instance, None, pointIDMatchFilter.CreateFromList([2])) == expect(lambda t, pid: pid == 2)


def disconnect_and_reconnect():
    state["instance"].Dispose()
    state["h"].Disconnect()
    h = connect()
    instance = h.OpenInstance("PPA")
    got = read_all(instance, None, pointIDMatchFilter.CreateFromList(IDS))
    instance.Dispose()
    h.Disconnect()
    assert got == expect(lambda t, pid: True)


def out_of_range_time_is_refused():
    h = connect()
    instance = h.OpenInstance("PPA")
    key, value = historianKey(), historianValue()
    key.AsDateTime = datetime(1900, 1, 1)
    key.PointID = 77
    value.AsSingle = np.float32(1)
    instance.Write(key, value)
    try:
        read_all(instance)
        raise AssertionError("the read after a refused write succeeded")
    except RuntimeError as e:
        assert "outside what ArborDB stores" in str(e), str(e)
    finally:
        try:
            h.socket.close()
        except Exception:
            pass
    h = connect()
    instance = h.OpenInstance("PPA")
    assert read_all(instance, None, pointIDMatchFilter.CreateFromList([77])) == []
    instance.Dispose()
    h.Disconnect()


check("Connect() lists the instances, PPA first", connect_and_list)
check("OpenInstance(InstanceNames[0]) opens PPA", open_instance)
check("writeTest: Write(key, value) of AsSingle 1000.98 / WARNINGHIGH reads back", write_test_point)
check("Write() of 2400 out-of-order points with 50 rewrites", write_data_set)
check("readTest: Read(CreateFromRange, CreateFromList) returns exactly the points in range", read_range_with_points)
check("Read(None, None) returns every point once, in key order, later writes winning", read_everything)
check("CreateFromRange(0001-01-01, 9999-12-31) is clamped and returns everything", read_all_time_range)
check("CreateFromRangeInterval windows return exactly the windowed points", read_interval)
check("main/sub-interval windows from raw ticks return exactly the windowed points", read_sub_interval)
check("readerOptions(maxReturnedCount=5) returns the first 5 points", read_with_options)
check("NaN payloads (signalling and quiet) survive bit for bit", nan_payloads_survive)
check("Dispose() then OpenInstance() on the same connection", reopen_on_same_connection)
check("Disconnect(), reconnect: the data is still there", disconnect_and_reconnect)
check("a time before 1933 is refused with a clear error, nothing stored", out_of_range_time_is_refused)
print(f"seed_usage: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
