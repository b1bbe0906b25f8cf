/**
 * C37.118 frames out of a pcap capture, in capture order: TCP payloads reassembled per connection
 * direction, UDP payloads split per datagram. Frames are raw bytes (not yet CRC-checked or
 * decoded), tagged with the connection they came from and the packet that completed them.
 */

import type { SplitFrame } from './frame-splitter.ts';
import { FrameSplitter } from './frame-splitter.ts';
import { readPcap } from './pcap.ts';
import { TcpReassembler } from './tcp-reassembly.ts';

export interface PcapFrame extends SplitFrame {
  /** "tcp 10.0.0.1:4712>10.0.0.2:3318" — frames of one connection direction share it. */
  readonly connection: string;
  /** Index of the pcap record that completed the frame. */
  readonly packet: number;
  /** Capture time of that record, ns. */
  readonly captured: bigint;
}

export interface PcapFrameOptions {
  /** Only packets from or to this port (default: every TCP/UDP packet). */
  readonly port?: number;
}

export interface PcapFrameStats {
  records: number;
  /** Records that are not TCP/UDP over IPv4 (or not on the port asked for). */
  skippedRecords: number;
  /** Stream bytes between frames (not a frame start), incl. unrelated traffic. */
  skippedBytes: number;
  /** TCP bytes missing from the capture (holes given up on). */
  lostBytes: number;
  /** Frames delivered from out-of-sequence TCP segments (retransmissions, strays). */
  outOfSequence: number;
  /** File offset where a truncated last record cut the capture short (undefined if whole). */
  truncatedAt?: number | undefined;
}

/** The C37.118 frames of the pcap bytes `file`; `stats` is filled in as the generator runs. */
export function* pcapFrames(
  file: Uint8Array,
  opts: PcapFrameOptions = {},
  stats: PcapFrameStats = { records: 0, skippedRecords: 0, skippedBytes: 0, lostBytes: 0, outOfSequence: 0 },
): Generator<PcapFrame> {
  const tcp = new TcpReassembler();
  let udpSkipped = 0;
  let last = { packet: 0, captured: 0n, connection: '' };
  for (const p of readPcap(file, (s) => {
    stats.records = s.records;
    stats.skippedRecords += s.skipped;
    stats.truncatedAt = s.truncatedAt;
  })) {
    if (opts.port !== undefined && p.srcPort !== opts.port && p.dstPort !== opts.port) {
      stats.skippedRecords++;
      continue;
    }
    const connection = `${p.proto} ${p.src}:${p.srcPort}>${p.dst}:${p.dstPort}`;
    const tag = { connection, packet: p.index, captured: p.time };
    last = tag;
    if (p.proto === 'tcp') {
      for (const f of tcp.push(connection, p.seq, p.tcpFlags, p.payload)) yield { ...f, ...tag };
    } else {
      const s = new FrameSplitter();
      for (const f of s.push(p.payload)) yield { ...f, ...tag };
      udpSkipped += s.skipped + s.pending;
    }
  }
  for (const { key, frame } of tcp.finish()) yield { ...frame, ...last, connection: key };
  const t = tcp.stats;
  stats.skippedBytes = t.skipped + udpSkipped;
  stats.lostBytes = t.lost;
  stats.outOfSequence = t.outOfSequence;
}
