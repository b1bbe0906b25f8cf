/**
 * The hot codecs copy int64/float64 bytes between protobuf (little-endian) and typed arrays
 * (platform order) without conversion; every platform Node supports in practice is little-endian,
 * and this check makes a big-endian one fail loudly at load instead of corrupting data.
 */
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('ArborDB wire codecs require a little-endian CPU');
}

export const LITTLE_ENDIAN = true;
