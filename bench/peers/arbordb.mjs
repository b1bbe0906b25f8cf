// ArborDB adapter for the peers harness (../shared/peers): the same workload and answer checks as
// the peer databases, through ArborDB's public embedded API (`open(dir)` from the built package).
// bench/peers/run.sh copies the harness to a scratch directory and drops this file into its
// adapters/ folder; ARBOR_REPO tells it where the built package (dist/) is.
import path from 'node:path';
import { mkdirp, rmrf } from '../lib/common.mjs';

const REPO = process.env.ARBOR_REPO;
if (!REPO) throw new Error('ARBOR_REPO must point at the ArborDB checkout (run bench/peers/run.sh)');
const arbor = await import(path.join(REPO, 'dist', 'index.js'));

const uuidOf = (s) => `00000000-0000-4000-8000-${String(s + 1).padStart(12, '0')}`;

export default {
  name: 'arbordb',
  label: 'ArborDB 0.1.0 (embedded)',
  precision: 'ns (int64)',
  precisionNs: 1,
  summary: 'in-process open(); Stream.insert of 1M-point columns, acknowledged after fsync of the committed tree',
  valueTol: 0,
  requires: { apt: [], npm: [] },
  notes: [
    'embedded, in-process via the public API (open(dir)); one stream per series, 10 streams inserted concurrently',
    'Stream.insert splits into 50,000-point batches (btrdb-python semantics); each is committed to the tree and fsynced before it is acknowledged',
    'windows: Stream.windows (statistics from the tree, min/mean/max/count); last point: Stream.nearest backward',
  ],

  async start(ctx, { fresh } = {}) {
    if (fresh) rmrf(ctx.dir);
    mkdirp(ctx.dir);
    ctx.state.db = await arbor.open(ctx.dir);
    ctx.state.streams = [];
    for (let s = 0; s < ctx.meta.streams; s++) {
      const stream = ctx.state.db.streamFromUuid(uuidOf(s));
      if (!(await stream.exists())) {
        ctx.state.streams.push(
          await ctx.state.db.create({ uuid: uuidOf(s), collection: 'peers', tags: { name: `s${s}` } }),
        );
      } else ctx.state.streams.push(stream);
    }
  },

  async version() {
    return this.label;
  },

  async ingest(ctx) {
    const data = [];
    for (let s = 0; s < ctx.meta.streams; s++) data.push(ctx.loadStream(s));
    await Promise.all(data.map(({ t, v }, s) => ctx.state.streams[s].insert({ times: t, values: v })));
  },

  async count(ctx) {
    let n = 0;
    for (const st of ctx.state.streams) n += await st.count({ precise: true, start: -(1n << 60n), end: 3n << 60n });
    return n;
  },

  async scan(ctx, s) {
    let count = 0,
      sum = 0,
      first,
      last,
      ordered = true,
      prev = -(1n << 63n);
    for await (const c of ctx.state.streams[s].values(-(1n << 60n), 3n << 60n)) {
      const { times, values } = c;
      for (let i = 0; i < times.length; i++) {
        const t = times[i];
        if (t < prev) ordered = false;
        prev = t;
        sum += values[i];
      }
      if (times.length > 0) {
        first ??= times[0];
        last = times[times.length - 1];
        count += times.length;
      }
    }
    return { count, sum, first, last, ordered };
  },

  async windows(ctx, s, from, to, width) {
    // ArborDB's windows() drops a window that crosses `end`: ask up to the next boundary.
    const k = (to - from + width - 1n) / width;
    const { points } = await ctx.state.streams[s].windows(from, from + k * width, width);
    const rows = [];
    for (let i = 0; i < points.length; i++) {
      const p = points[i];
      if (p.count > 0) rows.push([Number((p.time - from) / width), p.min, p.mean, p.max, p.count]);
    }
    return rows;
  },

  async last(ctx, s, t) {
    // nearest(backward) is strictly before its argument: t + 1 gives "at or before t".
    const p = await ctx.state.streams[s].nearest(t + 1n, { backward: true });
    return p === null ? null : { t: p.time, v: p.value };
  },

  async compact(ctx) {
    for (const st of ctx.state.streams) await st.flush();
  },

  dataPaths(ctx) {
    return [ctx.dir];
  },

  async stop(ctx) {
    await ctx.state.db?.close();
    ctx.state.db = null;
  },
};
