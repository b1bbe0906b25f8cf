/**
 * The data file (.dat) of a COMTRADE record in its four forms, decoded into raw columns: the
 * timestamp column, one Float64Array of raw (unscaled) values per analog channel and one
 * Uint8Array of 0/1 per digital channel. Pure: cfg + bytes in, columns out, or a DbError.
 *
 * - ASCII: one line per sample, `n,timestamp,A1…Ak,D1…Dm`. An empty analog field is a missing
 *   value; an empty timestamp is a missing timestamp. Trailing empty lines and a DOS EOF byte
 *   (0x1A) are ignored; every bad line is reported with its 1-based line number (first 20).
 * - BINARY / BINARY32 / FLOAT32: fixed-size little-endian records — u32 sample number, u32
 *   timestamp, the analog values as int16 / int32 / float32, then the digital channels packed 16
 *   per uint16 word (channel 1 = bit 0 of the first word).
 *
 * Missing values become NaN in the raw columns: the int16 value 0x8000 (−32768), the int32 value
 * 0x80000000 (−2³¹), a float32 NaN, an empty ASCII field. The timestamp 0xFFFFFFFF (binary) or an
 * empty field (ASCII) is a missing timestamp (NaN). What the importer does with them is up to
 * the caller (see comtrade-record.ts: skipped by default).
 */
import { DbError } from '../../core/errors.ts';
import { BadRows } from '../csv/bad-rows.ts';
import type { ComtradeConfig } from './cfg.ts';

export interface DatSamples {
  /** Samples (records) in the file. */
  readonly count: number;
  /** The timestamp column (units: cfg timestampUnitNs × timemult); NaN where missing. */
  readonly timestamps: Float64Array;
  /** Raw analog values per analog channel, in cfg order; NaN = missing. */
  readonly analog: readonly Float64Array[];
  /** 0/1 per digital channel, in cfg order. */
  readonly digital: readonly Uint8Array[];
}

const ANALOG_BYTES = { BINARY: 2, BINARY32: 4, FLOAT32: 4 } as const;

/** Bytes of one record of a binary data file. */
export function binaryRecordBytes(cfg: ComtradeConfig): number {
  if (cfg.format === 'ASCII') throw new DbError(438, 'an ASCII data file has no fixed record size');
  return 8 + cfg.analog.length * ANALOG_BYTES[cfg.format] + 2 * Math.ceil(cfg.digital.length / 16);
}

function columns(cfg: ComtradeConfig, count: number): DatSamples {
  return {
    count,
    timestamps: new Float64Array(count),
    analog: cfg.analog.map(() => new Float64Array(count)),
    digital: cfg.digital.map(() => new Uint8Array(count)),
  };
}

function countMismatch(file: string, found: number, cfg: ComtradeConfig, unit: string): DbError {
  return new DbError(
    438,
    `${file}: holds ${found} ${unit} but the cfg declares ${cfg.endSample} samples (endsamp of the last rate): a truncated or mismatched file`,
  );
}

function parseBinary(cfg: ComtradeConfig, bytes: Uint8Array, file: string): DatSamples {
  const size = binaryRecordBytes(cfg);
  if (bytes.length % size !== 0) {
    throw new DbError(
      438,
      `${file}: ${bytes.length} bytes is not a whole number of ${size}-byte records (8 + ${cfg.analog.length} analog × ${ANALOG_BYTES[cfg.format as 'BINARY']} + ${Math.ceil(cfg.digital.length / 16)} digital words × 2)`,
    );
  }
  const count = bytes.length / size;
  if (cfg.endSample > 0 && count !== cfg.endSample) throw countMismatch(file, count, cfg, 'records');
  const out = columns(cfg, count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nA = cfg.analog.length;
  const nD = cfg.digital.length;
  const width = ANALOG_BYTES[cfg.format as 'BINARY'];
  for (let i = 0, p = 0; i < count; i++, p += size) {
    const ts = view.getUint32(p + 4, true);
    out.timestamps[i] = ts === 0xffffffff ? Number.NaN : ts;
    let q = p + 8;
    for (let k = 0; k < nA; k++, q += width) {
      let v: number;
      if (cfg.format === 'BINARY') {
        v = view.getInt16(q, true);
        if (v === -0x8000) v = Number.NaN;
      } else if (cfg.format === 'BINARY32') {
        v = view.getInt32(q, true);
        if (v === -0x80000000) v = Number.NaN;
      } else {
        v = view.getFloat32(q, true);
        if (!Number.isFinite(v)) v = Number.NaN;
      }
      out.analog[k]![i] = v;
    }
    for (let k = 0; k < nD; k++) {
      const word = view.getUint16(q + 2 * (k >> 4), true);
      out.digital[k]![i] = (word >> (k & 15)) & 1;
    }
  }
  return out;
}

/** The DOS end-of-file byte some writers append (keating_1999.DAT). */
const DOS_EOF = String.fromCharCode(0x1a);
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

function parseAscii(cfg: ComtradeConfig, bytes: Uint8Array, file: string): DatSamples {
  // Numbers and commas only: Latin-1 maps every byte to one character, so nothing can fail to decode.
  const lines = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('latin1')
    .split(/\r\n|\n|\r/);
  let n = lines.length;
  while (n > 0 && lines[n - 1]!.replaceAll(DOS_EOF, '').trim() === '') n--;
  if (cfg.endSample > 0 && n !== cfg.endSample) throw countMismatch(file, n, cfg, 'lines');
  const nA = cfg.analog.length;
  const nD = cfg.digital.length;
  const fields = 2 + nA + nD;
  const out = columns(cfg, n);
  const bad = new BadRows('line');
  for (let i = 0; i < n; i++) {
    const f = lines[i]!.split(',');
    // Some writers end every line with a comma: one empty extra field is accepted.
    if (f.length !== fields && !(f.length === fields + 1 && f[fields]!.trim() === '')) {
      bad.add(i + 1, 438, `${f.length} fields, expected ${fields} (n, timestamp, ${nA} analog, ${nD} digital)`);
      continue;
    }
    if (!INTEGER.test(f[0]!.trim())) {
      bad.add(i + 1, 438, `sample number ${JSON.stringify(f[0])} is not an integer`);
      continue;
    }
    const ts = f[1]!.trim();
    if (ts !== '' && !(INTEGER.test(ts) && Number.isSafeInteger(Number(ts)))) {
      bad.add(i + 1, 413, `timestamp ${JSON.stringify(ts)} is not an integer`);
      continue;
    }
    out.timestamps[i] = ts === '' ? Number.NaN : Number(ts);
    for (let k = 0; k < nA; k++) {
      const t = f[2 + k]!.trim();
      if (t === '') out.analog[k]![i] = Number.NaN;
      else if (NUMBER.test(t) && Number.isFinite(Number(t))) out.analog[k]![i] = Number(t);
      else {
        bad.add(i + 1, 425, `analog channel ${k + 1} value ${JSON.stringify(t)} is not a number`);
        break;
      }
    }
    for (let k = 0; k < nD; k++) {
      const t = f[2 + nA + k]!.trim();
      if (t === '0' || t === '1') out.digital[k]![i] = t === '1' ? 1 : 0;
      else {
        bad.add(i + 1, 425, `digital channel ${k + 1} value ${JSON.stringify(t)} is not 0 or 1`);
        break;
      }
    }
  }
  if (!bad.empty) throw bad.toError(file);
  return out;
}

/** Decode a data file's bytes per the cfg's file type (see the module doc). */
export function parseDat(cfg: ComtradeConfig, bytes: Uint8Array, file = 'dat'): DatSamples {
  return cfg.format === 'ASCII' ? parseAscii(cfg, bytes, file) : parseBinary(cfg, bytes, file);
}
