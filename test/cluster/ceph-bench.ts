// Measures the test Ceph cluster (test/cluster/ceph.ts): cold-start time per phase and sequential
// create-only PUT / whole-object GET latency of 4 KiB and 1 MiB objects through radosgw.
// A program, not a test: prints a table with the load average and writes JSON (default
// .bench/ceph.json). Usage: node --import tsx test/cluster/ceph-bench.ts [--n 50] [--out FILE]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startCeph } from './ceph.ts';
import { quantile } from './timing.ts';

const argv = process.argv.slice(2);
const argOf = (name: string, fallback: string) =>
  argv.includes(name) ? (argv[argv.indexOf(name) + 1] ?? fallback) : fallback;
const N = Number(argOf('--n', '50'));
const OUT = argOf('--out', '.bench/ceph.json');

const loadBefore = os.loadavg();
const ceph = await startCeph();
const s3 = new S3Client({
  endpoint: ceph.endpoint,
  region: ceph.region,
  forcePathStyle: true,
  credentials: { accessKeyId: ceph.accessKey, secretAccessKey: ceph.secretKey },
  maxAttempts: 1,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
const rows: { op: string; size: number; n: number; p50Ms: number; p90Ms: number; maxMs: number }[] = [];
try {
  for (const size of [4096, 1 << 20]) {
    const body = new Uint8Array(size).fill(7);
    const put: number[] = [];
    const get: number[] = [];
    // Two warm-up round trips open the connection and warm radosgw's caches.
    for (let i = -2; i < N; i++) {
      const key = `bench/${size}/${i}`;
      let t = performance.now();
      await s3.send(new PutObjectCommand({ Bucket: ceph.bucket, Key: key, Body: body, IfNoneMatch: '*' }), {
        abortSignal: AbortSignal.timeout(30_000),
      });
      if (i >= 0) put.push(performance.now() - t);
      t = performance.now();
      const res = await s3.send(new GetObjectCommand({ Bucket: ceph.bucket, Key: key }), {
        abortSignal: AbortSignal.timeout(30_000),
      });
      const bytes = await res.Body?.transformToByteArray();
      if (bytes?.length !== size) throw new Error(`GET ${key} returned ${bytes?.length} bytes, expected ${size}`);
      if (i >= 0) get.push(performance.now() - t);
    }
    for (const [op, xs] of [
      ['create-only PUT', put],
      ['GET', get],
    ] as const) {
      const sorted = [...xs].sort((a, b) => a - b);
      rows.push({
        op,
        size,
        n: sorted.length,
        p50Ms: quantile(sorted, 0.5),
        p90Ms: quantile(sorted, 0.9),
        maxMs: sorted[sorted.length - 1] ?? Number.NaN,
      });
    }
  }
} finally {
  s3.destroy();
  await ceph.stop();
}
const loadAfter = os.loadavg();

console.log(`Ceph cold start: ${(ceph.startup.totalMs / 1000).toFixed(1)} s`);
for (const [name, ms] of ceph.startup.phases) console.log(`  ${name.padEnd(40)} ${(ms / 1000).toFixed(1)} s`);
console.log('');
console.log('op               size      n    p50 ms   p90 ms   max ms');
for (const r of rows) {
  console.log(
    `${r.op.padEnd(16)} ${String(r.size).padStart(8)} ${String(r.n).padStart(5)} ${r.p50Ms.toFixed(1).padStart(9)} ${r.p90Ms.toFixed(1).padStart(8)} ${r.maxMs.toFixed(1).padStart(8)}`,
  );
}
console.log(
  `load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}; ${os.cpus().length} cores`,
);
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(
  OUT,
  `${JSON.stringify({ when: new Date().toISOString(), startup: ceph.startup, rows, loadBefore, loadAfter, cores: os.cpus().length }, null, 2)}\n`,
);
console.log(`wrote ${OUT}`);
