/**
 * Run a CLI command in-process and return what it wrote to stdout. Only strings are captured: the
 * node test runner's own (binary) reports, written to the same stream, pass through.
 */
export async function captureStdout(run: () => Promise<void>): Promise<string> {
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (typeof chunk !== 'string') return write.call(process.stdout, chunk, ...rest);
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    await run();
  } finally {
    process.stdout.write = write;
  }
  return out;
}
