/**
 * One Arrow IPC stream out of many: the wire helpers build each chunk of an answer as a complete
 * IPC stream (schema, one record batch, end-of-stream marker). Sent back to back those would be
 * several streams, and a reader stops at the first end marker; so the first chunk keeps its
 * schema message, later ones drop it, every chunk drops its end marker, and `end()` writes one.
 *
 * IPC stream framing (Arrow columnar format, "Encapsulated message format"): each message is
 * 0xFFFFFFFF, an int32 metadata length, the metadata (padded to 8), then the body; a schema
 * message has no body. The end-of-stream marker is 0xFFFFFFFF 0x00000000.
 */

const CONTINUATION = 0xffffffff;
export const ARROW_EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

function messageLength(bytes: Uint8Array, at: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(at, true) !== CONTINUATION) throw new Error(`arrow-chunks: no continuation marker at ${at}`);
  return 8 + view.getInt32(at + 4, true);
}

function withoutEos(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n >= 8 && bytes.subarray(n - 8).every((b, i) => b === ARROW_EOS[i])) return bytes.subarray(0, n - 8);
  return bytes;
}

export class ArrowStitcher {
  #first = true;

  /** The part of `ipc` (one complete IPC stream of the shared schema) to send next. */
  chunk(ipc: Uint8Array): Uint8Array {
    const body = withoutEos(ipc);
    if (this.#first) {
      this.#first = false;
      return body;
    }
    return body.subarray(messageLength(body, 0));
  }

  end(): Uint8Array {
    return ARROW_EOS;
  }
}
