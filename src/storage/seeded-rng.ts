import { mulberry32 } from '../core/random.ts';

/** A small deterministic generator (mulberry32) for reproducible crash and corruption tests. */
export const seededRng: (seed: number) => () => number = mulberry32;
