/**
 * Starting PGlite. A fresh PGlite cluster runs initdb inside WASM, which takes 2–6 s here; loading
 * a gzipped tarball of an already initialised cluster takes ~1 s. So the first fresh catalog of a
 * process builds a *base template* (initdb + the hstore extension, nothing else) and every later
 * fresh catalog — in memory or in a new directory — is loaded from it. Existing directories are
 * simply reopened (~0.5 s).
 */
import { PGlite } from '@electric-sql/pglite';
import { hstore } from '@electric-sql/pglite/contrib/hstore';

export const PGLITE_EXTENSIONS = { hstore } as const;

let baseTemplate: Promise<Uint8Array> | undefined;
let baseTemplateBytes: Uint8Array | undefined;

/** The base template if this process has already built it (never builds one). */
export function peekBaseTemplate(): Uint8Array | undefined {
  return baseTemplateBytes;
}

/** initdb + `create extension hstore`, dumped as a gzipped tarball; built once per process. */
export function pgliteBaseTemplate(): Promise<Uint8Array> {
  baseTemplate ??= (async () => {
    const pg = await PGlite.create({ extensions: PGLITE_EXTENSIONS });
    try {
      await pg.exec('create extension if not exists hstore');
      const tar = await pg.dumpDataDir('gzip');
      baseTemplateBytes = new Uint8Array(await tar.arrayBuffer());
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
