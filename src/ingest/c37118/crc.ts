/**
 * CRC-CCITT as C37.118 uses it for the CHK word of every frame: polynomial 0x1021, initial value
 * 0xFFFF, no reflection, no final XOR, computed over every byte of the frame before the CHK word.
 */

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

/** CRC-CCITT (0xFFFF start) of `bytes[start, end)`. */
export function crcCcitt(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >>> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}
