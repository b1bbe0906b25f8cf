import { dirname } from 'node:path';
import type { Env } from './env.ts';

/**
 * `Env.writeFileAtomic` written once over the Env's own primitives, so that every step (sync,
 * rename, directory fsync) passes through a FaultyEnv's failpoints and is modelled by MemoryEnv.
 * Steps: write `path.tmp` (truncated first: a crash may have left one), fdatasync it, rename it
 * over `path`, fsync the directory.
 */
export async function writeFileAtomicVia(env: Env, path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  const f = await env.openAppend(tmp);
  try {
    if (f.size() !== 0) await f.truncate(0);
    await f.write([data]);
    await f.sync();
  } finally {
    await f.close();
  }
  await env.rename(tmp, path);
  await env.syncDir(dirname(path));
}
