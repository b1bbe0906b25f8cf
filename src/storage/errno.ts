/** Node-style errno errors, as thrown by `node:fs`, made by the in-memory and faulty Envs. */

export interface ErrnoError extends Error {
  code: string;
  syscall: string;
  path: string;
}

/** An Error shaped like the ones `node:fs` throws: `code`, `syscall`, `path`. */
export function errnoError(code: string, syscall: string, path: string, detail?: string): ErrnoError {
  const msg = `${code}: ${detail ?? describe(code)}, ${syscall} '${path}'`;
  return Object.assign(new Error(msg), { code, syscall, path });
}

/** The errno code of a thrown value ('EIO', 'ENOSPC' …), or undefined. */
export function errnoOf(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || !('code' in e)) return undefined;
  const code = (e as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function describe(code: string): string {
  switch (code) {
    case 'EIO':
      return 'i/o error';
    case 'ENOSPC':
      return 'no space left on device';
    case 'ENOENT':
      return 'no such file or directory';
    case 'EEXIST':
      return 'file already exists';
    case 'EBADF':
      return 'bad file descriptor';
    default:
      return 'error';
  }
}
