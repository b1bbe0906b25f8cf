/**
 * Where the project's shared recordings are (`shared/data/`: the OpenPMU logs, C37.118 captures,
 * COMTRADE files — see each folder's README for source and licence). They live beside the
 * repository (`../shared/data`), not in it. A clone elsewhere (e.g. a CI work directory) finds
 * them through $ARBOR_SHARED_DATA, else the workplace's fixed location /work/shared/data.
 */
import fs from 'node:fs';
import path from 'node:path';

const BESIDE_REPO = path.resolve(import.meta.dirname, '..', '..', 'shared', 'data');
const WORKPLACE = '/work/shared/data';

/** The folder `name` under shared/data (the first candidate that exists, else the one beside the repo). */
export function sharedDataDir(name: string): string {
  const roots = [process.env.ARBOR_SHARED_DATA, BESIDE_REPO, WORKPLACE].filter((r): r is string => !!r);
  for (const root of roots) {
    const dir = path.join(root, name);
    if (fs.existsSync(dir)) return dir;
  }
  return path.join(BESIDE_REPO, name);
}
