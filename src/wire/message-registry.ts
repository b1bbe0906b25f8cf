/** Every message codec of the protocol by proto message name (tests, tools, generic clients). */
import { InsertParamsCodec } from './insert-codec.ts';
import type { MessageCodec } from './message-codec.ts';
import * as common from './messages-common.ts';
import * as data from './messages-data.ts';
import * as meta from './messages-meta.ts';
import * as misc from './messages-misc.ts';
import { RawValuesResponseCodec } from './raw-values-codec.ts';
import { AlignedWindowsResponseCodec, StatPointCodec, WindowsResponseCodec } from './windows-codec.ts';

function collect(...modules: Record<string, unknown>[]): Record<string, MessageCodec<unknown>> {
  const out: Record<string, MessageCodec<unknown>> = {};
  for (const m of modules) {
    for (const v of Object.values(m)) {
      if (typeof v === 'object' && v !== null && 'name' in v && 'encode' in v && 'decode' in v && 'read' in v) {
        const codec = v as MessageCodec<unknown>;
        out[codec.name] = codec;
      }
    }
  }
  return out;
}

export const MESSAGE_CODECS: Readonly<Record<string, MessageCodec<unknown>>> = collect(common, data, meta, misc, {
  InsertParamsCodec,
  RawValuesResponseCodec,
  AlignedWindowsResponseCodec,
  WindowsResponseCodec,
  StatPointCodec,
});
