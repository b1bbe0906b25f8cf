import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HttpMetrics } from './metrics.ts';

test('requests and latencies render in the Prometheus text format', () => {
  const m = new HttpMetrics();
  m.observe('/api/streams/{uuid}', 'GET', 200, 0.003);
  m.observe('/api/streams/{uuid}', 'GET', 200, 0.2);
  m.observe('/api/streams/{uuid}', 'GET', 404, 0.001);
  const text = m.render({
    engine: { commits: 5, walSyncs: 2, lastBackgroundError: null },
    streams: 3,
    collections: 2,
    diskBytes: 1024,
  });
  assert.match(
    text,
    /^arbordb_http_requests_total\{endpoint="\/api\/streams\/\{uuid\}",method="GET",status="200"\} 2$/m,
  );
  assert.match(
    text,
    /^arbordb_http_request_duration_seconds_bucket\{endpoint="\/api\/streams\/\{uuid\}",le="0.005"\} 2$/m,
  );
  assert.match(
    text,
    /^arbordb_http_request_duration_seconds_bucket\{endpoint="\/api\/streams\/\{uuid\}",le="\+Inf"\} 3$/m,
  );
  assert.match(text, /^arbordb_http_request_duration_seconds_count\{endpoint="\/api\/streams\/\{uuid\}"\} 3$/m);
  assert.match(text, /^# TYPE arbordb_engine_commits_total counter\narbordb_engine_commits_total 5$/m);
  assert.match(text, /^arbordb_catalog_streams 3$/m);
  assert.match(text, /^arbordb_disk_bytes 1024$/m);
  assert.equal(m.requests('/api/streams/{uuid}', 'GET', 404), 1);
});

test('label values are escaped', () => {
  const m = new HttpMetrics();
  m.observe('a"b\\c', 'GET', 200, 0);
  assert.match(m.render(), /endpoint="a\\"b\\\\c"/);
});
