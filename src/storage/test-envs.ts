/**
 * The Envs every conformance suite runs against (fs, memory, faulty with no faults armed), each
 * with a fresh directory. Test support only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Env } from './env.ts';
import { FaultyEnv } from './faulty-env.ts';
import { fsEnv } from './fs-env.ts';
import { MemoryEnv } from './memory-env.ts';

export interface TestEnv {
  readonly env: Env;
  /** A directory that does not exist yet, inside a fresh parent. */
  readonly dir: string;
  cleanup(): Promise<void>;
}

export type MakeTestEnv = () => Promise<TestEnv>;

export const makeFsTestEnv: MakeTestEnv = async () => {
  const root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'arbor-storage-'));
  return {
    env: fsEnv,
    dir: path.join(root, 'store'),
    cleanup: () => fs.promises.rm(root, { recursive: true, force: true }),
  };
};

export const makeMemoryTestEnv: MakeTestEnv = async () => ({
  env: new MemoryEnv(),
  dir: '/db/store',
  cleanup: async () => {},
});

export const makeFaultyTestEnv: MakeTestEnv = async () => ({
  env: new FaultyEnv(new MemoryEnv()),
  dir: '/db/store',
  cleanup: async () => {},
});
