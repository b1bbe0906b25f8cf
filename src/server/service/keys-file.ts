/**
 * The keys file (docs/format/keys.md): one line per API key with its id, role, a salted SHA-256
 * hash of its secret, when it was created and an optional label. Secrets are never stored.
 *
 *   # arbordb keys v1
 *   3f9a0b1c2d4e<TAB>read<TAB>sha256$<salt>$<hash><TAB>2026-11-23T13:30:00.000Z<TAB>grafana
 *
 * A key as handed to a client is `arb_<id>_<secret>`: the id (12 hex digits, not secret) picks the
 * line, the secret (32 random bytes, base64url) is hashed with the line's salt and compared in
 * constant time. Pure parsing/formatting plus the atomic 0600 write and the writers' lock file.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isRole, type Role } from './roles.ts';

export const KEYS_FILE_HEADER = '# arbordb keys v1';
/** The default keys file inside a data directory. */
export const KEYS_FILE_NAME = 'keys';
export const KEY_PREFIX = 'arb_';
const ID_BYTES = 6;
const SECRET_BYTES = 32;
const SALT_BYTES = 16;
const ID_RE = /^[0-9a-f]{12}$/;
const KEY_RE = /^arb_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const B64URL_RE = /^[A-Za-z0-9_-]+$/;
/** Labels: printable, no tab or line break, at most 200 characters. */
export const MAX_LABEL_CHARS = 200;

export interface KeyEntry {
  /** 12 lowercase hex digits, unique in the file. */
  readonly id: string;
  readonly role: Role;
  /** 16 random bytes. */
  readonly salt: Uint8Array;
  /** SHA-256(salt ‖ UTF-8 secret): 32 bytes. */
  readonly hash: Uint8Array;
  /** ISO-8601 UTC creation time. */
  readonly created: string;
  /** Free text for people ('' = none). */
  readonly label: string;
}

/** A keys file that cannot be read as one: the line number (1-based) and what is wrong. */
export class KeysFileError extends Error {
  override get name(): string {
    return 'KeysFileError';
  }
}

/** SHA-256(salt ‖ UTF-8 secret). */
export function hashSecret(salt: Uint8Array, secret: string): Buffer {
  return createHash('sha256').update(salt).update(secret, 'utf8').digest();
}

/** True when `secret` hashes to the entry's hash; the comparison takes the same time either way. */
export function secretMatches(entry: KeyEntry, secret: string): boolean {
  return timingSafeEqual(hashSecret(entry.salt, secret), entry.hash);
}

/** `arb_<id>_<secret>` → its parts; undefined for anything else (e.g. a plain `--api-key`). */
export function splitKey(key: string): { readonly id: string; readonly secret: string } | undefined {
  const m = KEY_RE.exec(key);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export function checkLabel(label: string): string {
  if (label.length > MAX_LABEL_CHARS) throw new KeysFileError(`label is longer than ${MAX_LABEL_CHARS} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
  if (/[\u0000-\u001f\u007f]/.test(label))
    throw new KeysFileError('label must not contain tabs, line breaks or control characters');
  return label;
}

/**
 * A new key of `role`: its entry for the file and the key string (shown once, never stored).
 * `taken`: ids already in the file (a new id is drawn until it is unused).
 */
export function generateKey(
  role: Role,
  label: string,
  taken: ReadonlySet<string>,
  now: Date = new Date(),
): { readonly entry: KeyEntry; readonly key: string } {
  let id: string;
  do id = randomBytes(ID_BYTES).toString('hex');
  while (taken.has(id));
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  const salt = randomBytes(SALT_BYTES);
  const entry: KeyEntry = {
    id,
    role,
    salt,
    hash: hashSecret(salt, secret),
    created: now.toISOString(),
    label: checkLabel(label),
  };
  return { entry, key: `${KEY_PREFIX}${id}_${secret}` };
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function unb64(text: string, bytes: number, what: string, line: number): Buffer {
  const b = B64URL_RE.test(text) ? Buffer.from(text, 'base64url') : Buffer.alloc(0);
  if (b.length !== bytes || b.toString('base64url') !== text) {
    throw new KeysFileError(`line ${line}: ${what} must be ${bytes} bytes in base64url`);
  }
  return b;
}

/** Parse a keys file. Blank lines and `#` comments are skipped; anything else malformed throws. */
export function parseKeyEntries(text: string): KeyEntry[] {
  const out: KeyEntry[] = [];
  const ids = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const n = i + 1;
    if (raw.trim() === '' || raw.startsWith('#')) continue;
    const f = raw.split('\t');
    if (f.length < 4 || f.length > 5) throw new KeysFileError(`line ${n}: expected 4 or 5 tab-separated fields`);
    const [id, role, hashField, created, label = ''] = f as [string, string, string, string, string?];
    if (!ID_RE.test(id)) throw new KeysFileError(`line ${n}: id must be 12 lowercase hex digits`);
    if (ids.has(id)) throw new KeysFileError(`line ${n}: id ${id} appears twice`);
    if (!isRole(role))
      throw new KeysFileError(`line ${n}: role must be read, write or admin, not ${JSON.stringify(role)}`);
    const h = hashField.split('$');
    if (h.length !== 3 || h[0] !== 'sha256') throw new KeysFileError(`line ${n}: hash must be sha256$<salt>$<hash>`);
    const salt = unb64(h[1]!, SALT_BYTES, 'salt', n);
    const hash = unb64(h[2]!, 32, 'hash', n);
    if (Number.isNaN(Date.parse(created))) throw new KeysFileError(`line ${n}: created must be an ISO-8601 time`);
    try {
      checkLabel(label);
    } catch (e) {
      throw new KeysFileError(`line ${n}: ${(e as Error).message}`);
    }
    ids.add(id);
    out.push({ id, role, salt, hash, created, label });
  }
  return out;
}

/** The text of a keys file holding `entries` (header comment first). */
export function formatKeyEntries(entries: readonly KeyEntry[]): string {
  const lines = [
    KEYS_FILE_HEADER,
    '# Managed by `arbor keys`. Secrets are not stored: sha256$<salt>$<SHA-256(salt ‖ secret)>.',
    '# id\trole\thash\tcreated\tlabel',
  ];
  for (const e of entries) {
    const fields = [e.id, e.role, `sha256$${b64(e.salt)}$${b64(e.hash)}`, e.created];
    if (e.label !== '') fields.push(checkLabel(e.label));
    lines.push(fields.join('\t'));
  }
  return `${lines.join('\n')}\n`;
}

/** The entries of the keys file at `file`; a missing file has none. */
export function readKeyEntries(file: string): KeyEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return parseKeyEntries(text);
}

/**
 * Replace the keys file atomically with mode 0600: write `file.tmp` (0600), fsync, rename over
 * `file`, fsync the directory. A reader (the server) sees the old file or the new one, never a mix.
 */
export function writeKeyEntries(file: string, entries: readonly KeyEntry[]): void {
  const tmp = `${file}.tmp`;
  const data = formatKeyEntries(entries);
  fs.rmSync(tmp, { force: true });
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
  try {
    fs.fchmodSync(fd, 0o600); // the umask cannot widen it, but be explicit
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dirFd = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}

const sleepSync = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/**
 * Run `fn` holding `file.lock` (created exclusively), so that two `arbor keys` commands never
 * lose each other's change. A lock older than `staleMs` is taken over (its writer crashed).
 */
export function withKeysFileLock<T>(file: string, fn: () => T, timeoutMs = 5000, staleMs = 30_000): T {
  const lock = `${file}.lock`;
  const deadline = Date.now() + timeoutMs;
  let fd: number;
  for (;;) {
    try {
      fd = fs.openSync(lock, 'wx', 0o600);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > staleMs) fs.rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new KeysFileError(`${lock} is held by another arbor keys command`);
      else sleepSync(20);
    }
  }
  try {
    return fn();
  } finally {
    fs.closeSync(fd);
    fs.rmSync(lock, { force: true });
  }
}
