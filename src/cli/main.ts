#!/usr/bin/env node
/**
 * `arbor` — the ArborDB command line. Each command lives in its own module and is loaded on demand,
 * so `arbor --help` starts fast.
 */
import { DbError } from '../core/errors.ts';

interface Command {
  readonly summary: string;
  readonly load: () => Promise<(argv: string[]) => Promise<void>>;
}

const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'run the server (BTrDB v5 gRPC; HTTP API and web UI)',
    load: async () => (await import('./serve.ts')).serveCommand,
  },
  check: {
    summary: 'verify every stream, version and block of a data directory',
    load: async () => (await import('./check.ts')).checkCommand,
  },
  compact: {
    summary: 'apply the retention policy and reclaim unreferenced blocks',
    load: async () => (await import('./compact.ts')).compactCommand,
  },
  backup: {
    summary: 'a consistent backup of a running server or a data directory',
    load: async () => (await import('./backup.ts')).backupCommand,
  },
  restore: {
    summary: 'make a data directory from a backup (verified first)',
    load: async () => (await import('./restore.ts')).restoreCommand,
  },
  create: {
    summary: 'create a stream and print its uuid',
    load: async () => (await import('./create.ts')).createCommand,
  },
  ls: {
    summary: 'list streams (or collections) with points and time span',
    load: async () => (await import('./ls.ts')).lsCommand,
  },
  info: {
    summary: "show a stream's metadata, versions, points and size",
    load: async () => (await import('./info.ts')).infoCommand,
  },
  import: {
    summary: 'load CSV, Arrow or OpenPMU files (validated whole first)',
    load: async () => (await import('./import.ts')).importCommand,
  },
  export: {
    summary: 'write points or window statistics as CSV, NDJSON or Arrow',
    load: async () => (await import('./export.ts')).exportCommand,
  },
  query: {
    summary: 'run read-only SQL over stream metadata',
    load: async () => (await import('./query.ts')).queryCommand,
  },
  archive: {
    summary: 'export, import, show and attach read-only archives',
    load: async () => (await import('./archive.ts')).archiveCommand,
  },
  replicate: {
    summary: 'keep a central server in sync with an edge server (gap backfill)',
    load: async () => (await import('./replicate.ts')).replicateCommand,
  },
  keys: {
    summary: 'API keys with roles: add (printed once), list, revoke',
    load: async () => (await import('./keys.ts')).keysCommand,
  },
  ingest: {
    summary: 'C37.118 synchrophasor frames: pcap replay, TCP client, UDP listener',
    load: async () => (await import('./ingest.ts')).ingestCommand,
  },
};

export const USAGE = `arbor — ArborDB, a versioned statistical time-series database

Usage: arbor <command> [options]     (arbor <command> --help for details)

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join('\n')}

Data directory: --data DIR, or ARBOR_DATA, default ./data.
`;

/** Register more commands (modules added by later features call this from here). */
export function registerCommand(name: string, c: Command): void {
  COMMANDS[name] = c;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name ? 0 : 1;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write('arbordb 0.1.0\n');
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`arbor: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    await (await cmd.load())(rest);
    return 0;
  } catch (e) {
    if (e instanceof DbError) process.stderr.write(`arbor ${name}: ${e.message} (${e.code} ${e.name})\n`);
    else if (e instanceof UsageError) process.stderr.write(`arbor ${name}: ${e.message}\n`);
    else process.stderr.write(`arbor ${name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}

/** A mistake in the command line: printed without a stack trace. */
export class UsageError extends Error {}

const invoked = process.argv[1] ?? '';
if (/(^|[/\\])(main\.(ts|js)|arbor)$/.test(invoked)) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
