/** Where a command reads or writes: the --data directory (embedded) or a running server's gRPC API (--server). */
import { connectRemote } from '../client/remote-backend.ts';
import type { Backend } from '../db/backend.ts';
import { openDatabase } from '../db/database.ts';
import { dataDir, flag, type Parsed } from './args.ts';
import { UsageError } from './main.ts';

/** The help lines for the two flags. */
export const TARGET_HELP = `  --data DIR          the data directory (embedded; the server must not be running on it)
  --server HOST:PORT  a running server's gRPC API instead (env ARBOR_API_KEY or --api-key for its key)`;

/** Run `fn` over the backend the flags name, closing it afterwards; `name` says which for reports. */
export async function withBackend<T>(p: Parsed, fn: (backend: Backend, name: string) => Promise<T>): Promise<T> {
  const server = flag(p, 'server');
  if (server !== undefined && flag(p, 'data') !== undefined) throw new UsageError('give --server or --data, not both');
  if (server !== undefined) {
    if (!/^[^/]+:\d+$/.test(server)) {
      throw new UsageError(
        `--server takes the server's gRPC HOST:PORT (e.g. 127.0.0.1:4410), got ${JSON.stringify(server)}`,
      );
    }
    const apiKey = flag(p, 'api-key') ?? process.env.ARBOR_API_KEY;
    const remote = await connectRemote({ endpoints: server, ...(apiKey === undefined ? {} : { apiKey }) });
    try {
      return await fn(remote, server);
    } finally {
      await remote.close();
    }
  }
  const dir = dataDir(p);
  const db = await openDatabase(dir, { background: false });
  try {
    return await fn(db, dir);
  } finally {
    await db.close();
  }
}
