/**
 * Read a whole COMTRADE record from disk: the .cfg (or a 2013 single-file .cff), the matching
 * data file, and the sample times — everything validated before the caller writes anything.
 *
 * Files: `X.cfg` goes with `X.dat` in the same folder, the extension matched case-insensitively
 * (keating_1999.CFG / keating_1999.DAT). Passing the .dat finds the .cfg the same way.
 *
 * Text encoding of the cfg: `auto` takes UTF-8 when the bytes are valid UTF-8; else GBK when every
 * non-ASCII byte pair is a GB2312 character (Chinese relays write GBK channel names); else
 * Windows-1252 (Latin-1), which cannot fail. Anything else needs `encoding` (any WHATWG label:
 * 'gbk', 'latin1', 'shift_jis', …).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DbError } from '../../core/errors.ts';
import { type CfgOptions, type ComtradeConfig, parseCfg } from './cfg.ts';
import { type DatSamples, parseDat } from './dat.ts';
import { type SampleTimes, sampleTimes, type TimeSource } from './sample-times.ts';

export interface RecordOptions extends CfgOptions {
  /** Text encoding of the cfg: 'auto' (default) or a WHATWG encoding label. */
  readonly encoding?: string;
  readonly timeSource?: TimeSource;
}

export interface ComtradeRecord {
  readonly cfgFile: string;
  readonly datFile: string;
  readonly cfg: ComtradeConfig;
  readonly dat: DatSamples;
  readonly times: SampleTimes;
  /** The encoding the cfg was read with. */
  readonly encoding: string;
  /** Bytes read (cfg + dat). */
  readonly bytes: number;
}

/**
 * True when every byte ≥ 0x80 starts a GB2312 pair (lead 0xA1–0xF7, trail 0xA1–0xFE): the common
 * simplified-Chinese characters. Latin-1 text rarely passes (an accented letter is followed by an
 * ASCII letter), although much of it is valid GBK.
 */
function looksGb2312(bytes: Uint8Array): boolean {
  let pairs = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b < 0x80) continue;
    const t = bytes[i + 1] ?? 0;
    if (b < 0xa1 || b > 0xf7 || t < 0xa1 || t > 0xfe) return false;
    i++;
    pairs++;
  }
  return pairs > 0;
}

/** Decode cfg text per the module doc; returns the text and the encoding used. */
export function decodeCfgText(bytes: Uint8Array, encoding = 'auto'): { text: string; encoding: string } {
  let label = encoding;
  if (encoding === 'auto') {
    try {
      return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8' };
    } catch {
      label = looksGb2312(bytes) ? 'gbk' : 'windows-1252';
    }
  }
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(label, { fatal: true });
  } catch {
    throw new DbError(438, `unknown text encoding ${JSON.stringify(label)}`);
  }
  try {
    return { text: decoder.decode(bytes), encoding: decoder.encoding };
  } catch {
    throw new DbError(438, `the cfg is not valid ${label} text`);
  }
}

/** The sibling of `file` with extension `ext` (case-insensitive), or undefined. */
function sibling(file: string, ext: string): string | undefined {
  const dir = path.dirname(file);
  const base = path.basename(file, path.extname(file));
  const want = `${base}.${ext}`.toLowerCase();
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  const exact = names.find((n) => n === `${base}.${ext}` || n === `${base}.${ext.toUpperCase()}`);
  return path.join(dir, exact ?? names.find((n) => n.toLowerCase() === want) ?? `${base}.${ext}`);
}

function readBytes(file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DbError(
      438,
      `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message)}`,
    );
  }
}

/**
 * The sections of a 2013 .cff file: `--- file type: CFG ---`, `INF`, `HDR`, and
 * `DAT ASCII` or `DAT BINARY: <bytes>` (BINARY32/FLOAT32 likewise) — the binary section holds
 * exactly that many bytes after its header line.
 */
export function splitCff(bytes: Uint8Array, file: string): { cfg: Uint8Array; dat: Uint8Array } {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const header =
    /^[ \t]*-+[ \t]*file type:[ \t]*([A-Za-z0-9]+)(?:[ \t]+([A-Za-z0-9]+))?[ \t]*(?::[ \t]*(\d+))?[ \t]*-+[ \t]*(?:\r\n|\n|\r)/gim;
  let cfg: Uint8Array | undefined;
  let dat: Uint8Array | undefined;
  let open: { type: string; start: number } | undefined;
  const close = (end: number): void => {
    if (open?.type === 'CFG') cfg = bytes.subarray(open.start, end);
    if (open?.type === 'DAT') dat = bytes.subarray(open.start, end);
  };
  for (let m = header.exec(text); m !== null; m = header.exec(text)) {
    close(m.index);
    const type = m[1]!.toUpperCase();
    const start = m.index + m[0].length;
    open = { type, start };
    if (type === 'DAT' && m[3] !== undefined) {
      const n = Number(m[3]);
      if (start + n > bytes.length)
        throw new DbError(
          438,
          `${file}: the DAT section declares ${n} bytes, the file ends after ${bytes.length - start}`,
        );
      dat = bytes.subarray(start, start + n);
      header.lastIndex = start + n;
      open = undefined;
    }
  }
  close(bytes.length);
  if (cfg === undefined || dat === undefined) {
    throw new DbError(
      438,
      `${file}: a .cff file needs "--- file type: CFG ---" and "--- file type: DAT … ---" sections`,
    );
  }
  return { cfg, dat };
}

/** Read and validate a record whose cfg and dat bytes are in hand (pure; for tests and .cff). */
export function decodeRecord(
  cfgBytes: Uint8Array,
  datBytes: Uint8Array,
  names: { cfg: string; dat: string },
  o: RecordOptions = {},
): ComtradeRecord {
  const { text, encoding } = decodeCfgText(cfgBytes, o.encoding);
  const cfg = parseCfg(text, {
    file: names.cfg,
    ...(o.timeCode === undefined ? {} : { timeCode: o.timeCode }),
    ...(o.dateOrder === undefined ? {} : { dateOrder: o.dateOrder }),
  });
  const dat = parseDat(cfg, datBytes, names.dat);
  const times = sampleTimes(cfg, dat, o.timeSource ?? 'auto', names.dat);
  return {
    cfgFile: names.cfg,
    datFile: names.dat,
    cfg,
    dat,
    times,
    encoding,
    bytes: cfgBytes.length + datBytes.length,
  };
}

/** Read a record from `file` (.cfg, .dat or .cff, any case). */
export function readComtrade(file: string, o: RecordOptions = {}): ComtradeRecord {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.cff') {
    const { cfg, dat } = splitCff(readBytes(file), file);
    return decodeRecord(cfg, dat, { cfg: file, dat: file }, o);
  }
  const cfgFile = ext === '.dat' ? (sibling(file, 'cfg') ?? file) : file;
  const datFile = sibling(cfgFile, 'dat') ?? file;
  const cfgBytes = readBytes(cfgFile);
  if (!fs.existsSync(datFile)) throw new DbError(438, `${cfgFile}: no data file ${path.basename(datFile)} beside it`);
  return decodeRecord(cfgBytes, readBytes(datFile), { cfg: cfgFile, dat: datFile }, o);
}
