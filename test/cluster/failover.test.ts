/**
 * Issue 10's failover scenario, once per fault (test/cluster/failover.ts): PostgreSQL, 3 etcd
 * members, Ceph RGW and 3 `arbor serve --cluster` nodes, written to by two TS clients and the
 * official Python client on different nodes while a node is killed, a node is paused past its
 * lease, an etcd member is killed, the OSD is down for a while and PostgreSQL is down for a while.
 * Every acknowledged point must be present exactly once on every node. The 20-run version is
 * `npm run cluster:failover` (docs/cluster.md has its figures).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Infra, startInfra } from './cluster-harness.ts';
import { FAULTS, pythonClient, runFailover } from './failover.ts';

let infra: Infra;
let python: ReturnType<typeof pythonClient>;

before(async () => {
  python = pythonClient();
  infra = await startInfra();
});

after(async () => {
  await infra?.stop();
});

describe(
  'cluster failover: every acknowledged point survives, exactly once, on every node',
  { timeout: 900_000 },
  () => {
    for (const [i, fault] of FAULTS.entries()) {
      it(`fault: ${fault}`, async () => {
        const r = await runFailover(infra, fault, { runIndex: i, python });
        assert.deepEqual(r.problems, [], `${fault}: ${r.problems.join('; ')}`);
        assert.ok(r.acked > 0, 'inserts were acknowledged');
        assert.ok(r.pythonAcked > 0, 'the Python client got acknowledgements');
      });
    }
  },
);
