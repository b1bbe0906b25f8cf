/**
 * Building frames: command frames (what a PDC sends to a PMU) and re-stamping a captured frame
 * with a new IDCODE/SOC/FRACSEC (what our PMU simulator does before sending it). The CRC is
 * recomputed in both cases.
 */
import { DbError } from '../../core/errors.ts';
import { crcCcitt } from './crc.ts';

/** Write the CRC of `frame[0, len-2)` into its last two bytes. */
export function sealFrame(frame: Uint8Array): Uint8Array {
  const c = crcCcitt(frame, 0, frame.length - 2);
  frame[frame.length - 2] = c >>> 8;
  frame[frame.length - 1] = c & 0xff;
  return frame;
}

/** A C37.118-2005 command frame (18 bytes) for `idcode` with command `cmd`, stamped `timeNs`. */
export function commandFrame(
  idcode: number,
  cmd: number,
  timeNs: bigint = BigInt(Date.now()) * 1_000_000n,
): Uint8Array {
  const f = new Uint8Array(18);
  const dv = new DataView(f.buffer);
  f[0] = 0xaa;
  f[1] = 0x41;
  dv.setUint16(2, 18);
  dv.setUint16(4, idcode);
  dv.setUint32(6, Number(timeNs / 1_000_000_000n));
  dv.setUint32(10, Number((timeNs % 1_000_000_000n) / 1000n)); // µs, for TIME_BASE 1e6
  dv.setUint16(14, cmd);
  return sealFrame(f);
}

/**
 * A copy of `frame` with SOC, FRACSEC (24-bit fraction; the time-quality byte is kept) and,
 * if given, IDCODE replaced; CRC recomputed.
 */
export function restamp(frame: Uint8Array, soc: number, fraction: number, idcode?: number): Uint8Array {
  if (frame.length < 16) throw new DbError(438, `cannot re-stamp a ${frame.length}-byte frame`);
  const f = frame.slice();
  const dv = new DataView(f.buffer);
  if (idcode !== undefined) dv.setUint16(4, idcode);
  dv.setUint32(6, soc);
  dv.setUint32(10, ((dv.getUint32(10) & 0xff000000) | (fraction & 0xffffff)) >>> 0);
  return sealFrame(f);
}
