/**
 * A gRPC server with a deliberately small in-flight insert budget, to watch the pushback path
 * under the load generator: `fleet.ts --server` against it counts RESOURCE_EXHAUSTED answers,
 * resends them, and still verifies every acknowledged point.
 *
 *   node --import tsx bench/load/budget-server.ts [budgetBytes=65536] &
 *   node --import tsx bench/load/fleet.ts --server 127.0.0.1:PORT --pmus 21 --duration 30
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../src/db/database.ts';
import { startGrpcServer } from '../../src/server/grpc/index.ts';

const budget = Number(process.argv[2] ?? 65_536);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbor-budget-'));
const db = await openDatabase(dir);
const server = await startGrpcServer({
  backend: db,
  address: '127.0.0.1:0',
  apiKeys: ['load-key'],
  maxInflightInsertBytes: budget,
});
console.log(`budget server: ready grpc=${server.address} budget=${budget} pid=${process.pid}`);
const stop = async () => {
  console.log(`budget server: ${server.insertBudget.refused} inserts refused`);
  await server.close(2000);
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
