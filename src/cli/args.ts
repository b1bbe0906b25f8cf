/** A small, strict flag parser: `--name value`, `--name=value`, booleans, repeatable flags. */
import { toNanos } from '../client/index.ts';
import { DbError } from '../core/errors.ts';
import { UsageError } from './main.ts';

export interface FlagSpec {
  readonly [name: string]: { readonly type: 'string' | 'boolean' | 'list'; readonly short?: string };
}

export interface Parsed {
  readonly flags: Map<string, string[]>;
  readonly positional: string[];
}

export function parseArgs(argv: readonly string[], spec: FlagSpec): Parsed {
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  const byShort = new Map(Object.entries(spec).flatMap(([k, v]) => (v.short ? [[v.short, k] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    let name = a.startsWith('--') ? a.slice(2) : (byShort.get(a.slice(1)) ?? a.slice(1));
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const s = spec[name];
    if (!s) throw new UsageError(`unknown option --${name} (see --help)`);
    if (s.type === 'boolean') {
      flags.set(name, [value ?? 'true']);
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
    }
    flags.set(name, s.type === 'list' ? [...(flags.get(name) ?? []), value] : [value]);
  }
  return { flags, positional };
}

export const flag = (p: Parsed, name: string): string | undefined => p.flags.get(name)?.[0];
export const has = (p: Parsed, name: string): boolean => p.flags.get(name)?.[0] === 'true';

/** The data directory: --data > ARBOR_DATA > ./data. */
export const dataDir = (p: Parsed): string => flag(p, 'data') ?? process.env.ARBOR_DATA ?? './data';

/** A time flag (integer ns or ISO-8601, see toNanos) as ns; a usage error naming the flag if it does not parse. */
export function timeFlag(p: Parsed, name: string): bigint | undefined {
  const text = flag(p, name);
  if (text === undefined) return undefined;
  try {
    return toNanos(text);
  } catch (e) {
    throw new UsageError(`--${name}: ${e instanceof DbError ? e.message : String(e)}`);
  }
}
