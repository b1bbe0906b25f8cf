/**
 * Messages between the coordinator (fleet.ts) and its writer and reader processes (IPC, JSON:
 * bigints travel as decimal strings).
 */
import type { HistogramData } from './histogram.ts';
import type { Pacing, ValueSource } from './options.ts';

export interface StreamSpec {
  readonly id: string;
  readonly pmu: number;
  readonly channel: number;
}

export interface WriterInit {
  readonly kind: 'init';
  readonly index: number;
  readonly server: string;
  readonly apiKey: string;
  readonly streams: readonly StreamSpec[];
  readonly hz: number;
  readonly batchMs: number;
  readonly pacing: Pacing;
  readonly lateFrac: number;
  readonly lateMaxMs: number;
  readonly oooFrac: number;
  readonly inflight: number;
  readonly values: ValueSource;
  readonly seed: number;
}

export interface ReaderInit {
  readonly kind: 'init';
  readonly server: string;
  readonly apiKey: string;
  readonly ids: readonly string[];
  readonly loops: number;
  readonly pauseMs: number;
  readonly hz: number;
  readonly seed: number;
}

/** Coordinator → child. */
export type ToChild =
  | WriterInit
  | ReaderInit
  /** Create your streams (writers). */
  | { readonly kind: 'create' }
  /** Start: slot k of data is due at startAtMs + (k+1)·batchMs (epoch ms). */
  | {
      readonly kind: 'go';
      readonly startAtMs: number;
      readonly untilMs: number;
      /** Data time of frame 0 (ns, decimal). */
      readonly t0Ns: string;
    }
  /** Readers: the data time (ns) up to which every stream is acknowledged. */
  | { readonly kind: 'head'; readonly headNs: string }
  | { readonly kind: 'sample' }
  | { readonly kind: 'stop' };

export interface WriterSample {
  readonly kind: 'sample';
  readonly points: number;
  readonly inserts: number;
  readonly ack: HistogramData;
  readonly pushbacks: number;
  readonly errors: number;
  /** CPU time (ms) of this process since the last sample. */
  readonly cpuMs: number;
}

export interface ReaderSample {
  readonly kind: 'sample';
  readonly windows: HistogramData;
  readonly raw: HistogramData;
  readonly windowsAnswered: number;
  readonly rawPoints: number;
  readonly errors: number;
  readonly cpuMs: number;
}

/** Child → coordinator. */
export type FromWriter =
  | { readonly kind: 'ready' }
  | { readonly kind: 'created'; readonly ms: number }
  /** Every on-time batch of slot `slot` is acknowledged (epoch ms). */
  | { readonly kind: 'slot'; readonly slot: number; readonly doneAtMs: number }
  | WriterSample
  | {
      readonly kind: 'final';
      /** Slots whose batches (late ones included) were all sent and acknowledged. */
      readonly slots: number;
      readonly points: number;
      readonly failed: number;
      readonly firstError: string | null;
    };

export type FromReader =
  | { readonly kind: 'ready' }
  | ReaderSample
  | { readonly kind: 'final'; readonly firstError: string | null };
