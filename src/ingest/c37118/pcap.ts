/**
 * A minimal classic-libpcap reader: the global header (either byte order, µs or ns time stamps),
 * then records; Ethernet (optionally one 802.1Q VLAN tag) → IPv4 → TCP or UDP. Anything else
 * (ARP, IPv6, fragments) is counted and skipped. A file that is not a classic pcap of Ethernet
 * frames is rejected with DbError 438; a partial last record ends the capture (reported in the
 * summary's `truncatedAt`).
 */
import { DbError } from '../../core/errors.ts';

export interface PcapPacket {
  /** Index of the record in the file (0-based). */
  readonly index: number;
  /** File offset of the record header. */
  readonly offset: number;
  /** Capture time, ns since 1970. */
  readonly time: bigint;
  readonly proto: 'tcp' | 'udp';
  readonly src: string;
  readonly dst: string;
  readonly srcPort: number;
  readonly dstPort: number;
  /** TCP only. */
  readonly seq: number;
  /** TCP flags byte (SYN 0x02, FIN 0x01, RST 0x04). */
  readonly tcpFlags: number;
  readonly payload: Uint8Array;
}

export interface PcapSummary {
  readonly records: number;
  readonly skipped: number;
  /** File offset of a truncated last record (a capture cut short), else undefined. */
  readonly truncatedAt: number | undefined;
}

const LINKTYPE_ETHERNET = 1;

/**
 * Every TCP/UDP-over-IPv4 packet of the capture `file` (its bytes), in file order. `summary`, if
 * given, receives the record and skipped counts at the end.
 */
export function* readPcap(file: Uint8Array, summary?: (s: PcapSummary) => void): Generator<PcapPacket> {
  if (file.length < 24) throw new DbError(438, `not a pcap file: ${file.length} bytes, the header alone is 24`);
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = dv.getUint32(0, false);
  let le: boolean;
  let nano: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) {
    le = false;
    nano = magic === 0xa1b23c4d;
  } else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) {
    le = true;
    nano = magic === 0x4d3cb2a1;
  } else {
    throw new DbError(438, `not a classic pcap file: magic 0x${magic.toString(16).padStart(8, '0')} at offset 0`);
  }
  const link = dv.getUint32(20, le) & 0x0fffffff;
  if (link !== LINKTYPE_ETHERNET) throw new DbError(438, `pcap link type ${link} is not Ethernet (1)`);
  let o = 24;
  let index = 0;
  let skipped = 0;
  let truncatedAt: number | undefined;
  while (o < file.length) {
    // A capture cut short (the writer was killed) ends in a partial record: stop there, as
    // tcpdump and Wireshark do, and report it.
    if (file.length - o < 16 || dv.getUint32(o + 8, le) > file.length - o - 16) {
      truncatedAt = o;
      break;
    }
    const sec = dv.getUint32(o, le);
    const sub = dv.getUint32(o + 4, le);
    const incl = dv.getUint32(o + 8, le);
    const time = BigInt(sec) * 1_000_000_000n + BigInt(sub) * (nano ? 1n : 1000n);
    const pkt = parseEthernet(file.subarray(o + 16, o + 16 + incl), index, o, time);
    if (pkt === null) skipped++;
    else yield pkt;
    o += 16 + incl;
    index++;
  }
  summary?.({ records: index, skipped, truncatedAt });
}

const ip4 = (b: Uint8Array, o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

function parseEthernet(f: Uint8Array, index: number, offset: number, time: bigint): PcapPacket | null {
  if (f.length < 14) return null;
  let type = (f[12]! << 8) | f[13]!;
  let o = 14;
  if (type === 0x8100) {
    if (f.length < 18) return null;
    type = (f[16]! << 8) | f[17]!;
    o = 18;
  }
  if (type !== 0x0800 || f.length < o + 20) return null;
  const ihl = (f[o]! & 0xf) * 4;
  if (f[o]! >> 4 !== 4 || ihl < 20) return null;
  const total = (f[o + 2]! << 8) | f[o + 3]!;
  const fragment = ((f[o + 6]! << 8) | f[o + 7]!) & 0x3fff; // MF flag or offset: a fragment
  if (fragment !== 0) return null;
  const proto = f[o + 9]!;
  const ipEnd = Math.min(f.length, o + total);
  if (ipEnd < o + ihl) return null;
  const src = ip4(f, o + 12);
  const dst = ip4(f, o + 16);
  const t = o + ihl;
  if (proto === 6) {
    if (ipEnd < t + 20) return null;
    const dataOff = (f[t + 12]! >> 4) * 4;
    if (dataOff < 20 || ipEnd < t + dataOff) return null;
    const seq = ((f[t + 4]! << 24) | (f[t + 5]! << 16) | (f[t + 6]! << 8) | f[t + 7]!) >>> 0;
    return {
      index,
      offset,
      time,
      proto: 'tcp',
      src,
      dst,
      srcPort: (f[t]! << 8) | f[t + 1]!,
      dstPort: (f[t + 2]! << 8) | f[t + 3]!,
      seq,
      tcpFlags: f[t + 13]!,
      payload: f.subarray(t + dataOff, ipEnd),
    };
  }
  if (proto === 17) {
    if (ipEnd < t + 8) return null;
    return {
      index,
      offset,
      time,
      proto: 'udp',
      src,
      dst,
      srcPort: (f[t]! << 8) | f[t + 1]!,
      dstPort: (f[t + 2]! << 8) | f[t + 3]!,
      seq: 0,
      tcpFlags: 0,
      payload: f.subarray(t + 8, ipEnd),
    };
  }
  return null;
}
