/**
 * `arbor keys` — manage the API keys of a server: add (prints the key once), list (never shows
 * secrets), revoke. The keys file (docs/format/keys.md) holds only salted hashes; it is replaced
 * atomically (mode 0600) under a lock file, and a running `arbor serve` picks every change up by
 * itself — no restart.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  generateKey,
  KEYS_FILE_NAME,
  KeysFileError,
  readKeyEntries,
  withKeysFileLock,
  writeKeyEntries,
} from '../server/service/keys-file.ts';
import { isRole, ROLES } from '../server/service/roles.ts';
import { flag, has, type Parsed, parseArgs } from './args.ts';
import { UsageError } from './main.ts';

export const KEYS_HELP = `arbor keys — API keys with roles

Usage: arbor keys add --role read|write|admin [--label L] [--file F | --data DIR]
       arbor keys list [--json] [--file F | --data DIR]
       arbor keys revoke ID [--file F | --data DIR]

  add       create a key and print it on stdout ONCE (only a salted hash is stored)
  list      id, role, creation time and label of every key (never a secret)
  revoke    remove the key with this id; a running server refuses it within 0.1 s

  --role R     read:  queries, SQL, lookups, info, live/subscribe, metrics
               write: read + insert, delete, create streams, set tags/annotations, flush
               admin: write + obliterate, fault injection, every /api/admin/ route
  --label L    a note for people (who or what uses the key), up to 200 characters
  --file F     the keys file (default DIR/${KEYS_FILE_NAME})
  --data DIR   data directory (default $ARBOR_DATA or ./data); \`arbor serve --data DIR\` reads
               DIR/${KEYS_FILE_NAME} and re-reads it whenever it changes
  --json       list as JSON

Keys look like arb_<12 hex id>_<43 base64url characters>; clients send
"authorization: Bearer <key>" (btrdb-python: api_key / BTRDB_API_KEY).

Examples:
  arbor keys add --data /var/lib/arbordb --role write --label "pmu ingest"
  arbor keys list --data /var/lib/arbordb
  arbor keys revoke 3f9a0b1c2d4e --data /var/lib/arbordb
`;

export interface KeysIO {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

const processIO: KeysIO = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
};

/** The keys file a command works on: --file, else DATA/keys (--data > ARBOR_DATA > ./data). */
export function keysFileOf(p: Parsed, env: KeysIO['env']): string {
  const file = flag(p, 'file');
  const data = flag(p, 'data');
  if (file !== undefined && data !== undefined) throw new UsageError('give --file or --data, not both');
  return file ?? path.join(data ?? env.ARBOR_DATA ?? './data', KEYS_FILE_NAME);
}

const SPEC = {
  role: { type: 'string' },
  label: { type: 'string' },
  file: { type: 'string' },
  data: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function read(file: string) {
  try {
    return readKeyEntries(file);
  } catch (e) {
    if (e instanceof KeysFileError) throw new UsageError(`${file}: ${e.message}`);
    throw e;
  }
}

export async function keysCommand(argv: string[], io: KeysIO = processIO): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(KEYS_HELP);
    return;
  }
  const p = parseArgs(rest, SPEC);
  if (has(p, 'help')) {
    io.out(KEYS_HELP);
    return;
  }
  const file = keysFileOf(p, io.env);
  if (sub === 'add') {
    if (p.positional.length > 0) throw new UsageError(`unexpected argument ${p.positional[0]}`);
    const role = flag(p, 'role');
    if (role === undefined || !isRole(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
    const label = flag(p, 'label') ?? '';
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const { id, key } = withKeysFileLock(file, () => {
      const entries = read(file);
      let made: ReturnType<typeof generateKey>;
      try {
        made = generateKey(role, label, new Set(entries.map((e) => e.id)));
      } catch (e) {
        if (e instanceof KeysFileError) throw new UsageError(`--label: ${e.message}`);
        throw e;
      }
      writeKeyEntries(file, [...entries, made.entry]);
      return { id: made.entry.id, key: made.key };
    });
    io.out(`${key}\n`);
    io.err(`arbor keys: added key ${id} (role ${role}) to ${file}. This is the only time the key is shown.\n`);
    return;
  }
  if (sub === 'list') {
    if (p.positional.length > 0) throw new UsageError(`unexpected argument ${p.positional[0]}`);
    const entries = read(file);
    if (has(p, 'json')) {
      const rows = entries.map((e) => ({ id: e.id, role: e.role, created: e.created, label: e.label }));
      io.out(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    if (entries.length === 0) {
      io.err(`arbor keys: no keys in ${file}\n`);
      return;
    }
    const rows = [['ID', 'ROLE', 'CREATED', 'LABEL'], ...entries.map((e) => [e.id, e.role, e.created, e.label])];
    const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows)
      io.out(
        `${r
          .map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell))
          .join('  ')
          .trimEnd()}\n`,
      );
    return;
  }
  if (sub === 'revoke') {
    const [id, ...more] = p.positional;
    if (id === undefined || more.length > 0) throw new UsageError('give exactly one key id (see arbor keys list)');
    const removed = withKeysFileLock(file, () => {
      const entries = read(file);
      const kept = entries.filter((e) => e.id !== id);
      if (kept.length === entries.length) return false;
      writeKeyEntries(file, kept);
      return true;
    });
    if (!removed) throw new UsageError(`no key with id ${id} in ${file} (see arbor keys list)`);
    io.err(`arbor keys: revoked key ${id} in ${file}; a running server refuses it within 0.1 s\n`);
    return;
  }
  throw new UsageError(`unknown keys command "${sub}": use add, list or revoke (see arbor keys --help)`);
}
