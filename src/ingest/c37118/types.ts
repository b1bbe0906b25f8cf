/**
 * The decoded forms of IEEE C37.118-2005/2011 frames. Values are in engineering units (PHUNIT /
 * ANUNIT scaling already applied to integer formats), times in bigint ns since 1970 (UTC).
 */

/** The frame types of the SYNC word's bits 6–4. */
export const FRAME_TYPE = { data: 0, header: 1, cfg1: 2, cfg2: 3, command: 4, cfg3: 5 } as const;

/** Command codes (CMD word of a command frame). */
export const COMMAND = { off: 1, on: 2, sendHeader: 3, sendCfg1: 4, sendCfg2: 5, sendCfg3: 6, extended: 8 } as const;

/** Fields every frame starts with. */
export interface FrameHeader {
  /** SYNC version (bits 3–0): 1 = 2005, 2 = 2011. */
  readonly version: number;
  readonly frameSize: number;
  readonly idcode: number;
  /** Second of century (s since 1970-01-01 UTC). */
  readonly soc: number;
  /** The 24-bit fraction of a second (in units of 1/TIME_BASE). */
  readonly fraction: number;
  /** FRACSEC bits 31–24: bit 6 leap-second direction, 5 occurred, 4 pending, 3–0 time quality code. */
  readonly timeQuality: number;
}

/** One PMU block of a configuration frame. */
export interface PmuConfig {
  readonly station: string;
  readonly idcode: number;
  /** FORMAT word: bit 3 FREQ/DFREQ float, bit 2 analogs float, bit 1 phasors float, bit 0 polar. */
  readonly format: number;
  readonly phasorNames: readonly string[];
  /** 'V' or 'I' per phasor (PHUNIT byte 3). */
  readonly phasorKinds: readonly ('V' | 'I')[];
  /** Volts or amperes per bit for int16 phasors (PHUNIT 24-bit factor × 1e-5); 1 for float. */
  readonly phasorScale: Float64Array;
  readonly analogNames: readonly string[];
  /** ANUNIT byte 3: 0 point-on-wave, 1 RMS, 2 peak, 65–255 user defined. */
  readonly analogKinds: readonly number[];
  /** Multiplier for int16 analogs (ANUNIT signed 24-bit factor, see docs); 1 for float. */
  readonly analogScale: Float64Array;
  /** 16 channel names per digital word. */
  readonly digitalNames: readonly (readonly string[])[];
  /** DIGUNIT per word: normal-status mask (high 16 bits) and valid-inputs mask (low 16 bits). */
  readonly digitalMasks: readonly number[];
  /** Nominal frequency, 50 or 60 Hz. */
  readonly nominalHz: 50 | 60;
  readonly cfgcnt: number;
}

export interface ConfigFrame extends FrameHeader {
  readonly type: 'cfg1' | 'cfg2' | 'cfg3';
  /** TIME_BASE (24 bits): FRACSEC units per second. */
  readonly timeBase: number;
  readonly pmus: readonly PmuConfig[];
  /** DATA_RATE: > 0 frames/s, < 0 seconds per frame. */
  readonly dataRate: number;
  /** Time stamp of the frame, ns since 1970. */
  readonly time: bigint;
}

/** One PMU block of a data frame. */
export interface PmuData {
  readonly stat: number;
  /**
   * Phasors as pairs [a0, b0, a1, b1, …]: real/imaginary for rectangular formats, magnitude/angle
   * (radians) for polar ones — as the PMU's FORMAT says; scaled to V or A.
   */
  readonly phasors: Float64Array;
  /** Hz. */
  readonly freq: number;
  /** Hz/s. */
  readonly dfreq: number;
  readonly analogs: Float64Array;
  readonly digitals: Uint16Array;
}

export interface DataFrame extends FrameHeader {
  readonly type: 'data';
  readonly time: bigint;
  readonly pmus: readonly PmuData[];
}

export interface HeaderFrame extends FrameHeader {
  readonly type: 'header';
  readonly time: bigint;
  readonly text: string;
}

export interface CommandFrame extends FrameHeader {
  readonly type: 'command';
  readonly time: bigint;
  readonly command: number;
  readonly extended: Uint8Array;
}

export type C37Frame = ConfigFrame | DataFrame | HeaderFrame | CommandFrame;

/** The configuration that data frames of IDCODE `idcode` are decoded with. */
export type ConfigLookup = (idcode: number) => ConfigFrame | undefined;
