/**
 * The one error the wire layer throws: bytes that are not a valid message of the expected type
 * (truncated, wrong wire type, length past the end, over a limit) or a value that cannot be
 * encoded. The message names the protobuf message, the field and the byte offset, e.g.
 * `InsertParams.values[3] (field 3): truncated fixed64 at byte 57 of 60`.
 *
 * gRPC adapters turn it into a transport error (grpc-js answers INTERNAL when a deserializer
 * throws); it is never a BTrDB in-band status, because the request could not be read at all.
 */
export class WireFormatError extends Error {
  /** Byte offset in the buffer being decoded, or -1 when encoding. */
  readonly offset: number;

  constructor(message: string, offset = -1) {
    super(message);
    this.offset = offset;
  }

  override get name(): string {
    return 'WireFormatError';
  }
}
