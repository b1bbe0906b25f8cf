/**
 * Starting PGlite. A fresh PGlite cluster runs initdb inside WASM, which takes 2–6 s here; loading
 * a gzipped tarball of an already initialised cluster takes ~1 s. So the first fresh catalog of a
 * process builds a *base template* (initdb + the hstore extension, nothing else) and every later
 * fresh catalog — in memory or in a new directory — is loaded from it. Existing directories are
 * simply reopened (~0.5 s).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { hstore } from '@electric-sql/pglite/contrib/hstore';

export const PGLITE_EXTENSIONS = { hstore } as const;

let baseTemplate: Promise<Uint8Array> | undefined;
let baseTemplateBytes: Uint8Array | undefined;

/** The base template if this process has already built it (never builds one). */
export function peekBaseTemplate(): Uint8Array | undefined {
  return baseTemplateBytes;
}

/**
 * Where the base template is cached between processes: a file in the OS temp directory named for
 * the PGlite version, so a newer PGlite never loads an older cluster. Written atomically.
 */
function templateCachePath(): string {
  // The package does not export its package.json: find it above the resolved entry point.
  let dir = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  let version = 'unknown';
  for (let i = 0; i < 4; i++, dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === '@electric-sql/pglite') {
        version = pkg.version ?? version;
        break;
      }
    } catch {
      // keep looking
    }
  }
  return path.join(os.tmpdir(), `arbordb-pglite-${version}-hstore.tar.gz`);
}

function readCachedTemplate(): Uint8Array | undefined {
  try {
    const bytes = fs.readFileSync(templateCachePath());
    // A gzip stream starts with 1f 8b; anything else is a partial or foreign file: rebuild.
    return bytes.length > 1024 && bytes[0] === 0x1f && bytes[1] === 0x8b ? new Uint8Array(bytes) : undefined;
  } catch {
    return undefined;
  }
}

function writeCachedTemplate(bytes: Uint8Array): void {
  const file = templateCachePath();
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, file);
  } catch {
    fs.rmSync(tmp, { force: true }); // the cache is only an optimisation
  }
}

/**
 * initdb + `create extension hstore`, dumped as a gzipped tarball; built once per machine (cached
 * in the temp directory) and loaded once per process.
 */
export function pgliteBaseTemplate(): Promise<Uint8Array> {
  baseTemplate ??= (async () => {
    const cached = readCachedTemplate();
    if (cached) {
      baseTemplateBytes = cached;
      return cached;
    }
    const pg = await PGlite.create({ extensions: PGLITE_EXTENSIONS });
    try {
      await pg.exec('create extension if not exists hstore');
      const tar = await pg.dumpDataDir('gzip');
      baseTemplateBytes = new Uint8Array(await tar.arrayBuffer());
      writeCachedTemplate(baseTemplateBytes);
      return baseTemplateBytes;
    } finally {
      await pg.close();
    }
  })();
  baseTemplate.catch(() => {
    baseTemplate = undefined; // let a later call retry
  });
  return baseTemplate;
}

/**
 * Open PGlite on `dataDir` (an absolute host path; undefined = in memory). When `template` is given
 * the cluster is created from that tarball (`dataDir` must then not hold a cluster yet).
 */
export async function openPglite(dataDir: string | undefined, template?: Uint8Array): Promise<PGlite> {
  const options = {
    extensions: PGLITE_EXTENSIONS,
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(template === undefined ? {} : { loadDataDir: new Blob([template]) }),
  };
  return PGlite.create(options);
}
