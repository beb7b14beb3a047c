/**
 * API option names as the library's messages write them (in backticks), and the flag that sets
 * each on the command line: one message serves both, the CLI shows the flag.
 */
export const OPTION_FLAGS: Readonly<Record<string, string>> = {
  dropNonfinite: '--drop-nonfinite',
  batchSize: '--batch-size',
  momentum: '--momentum',
  keepLastBatch: '--keep-last-batch',
  eps: '--eps',
  beta: '--beta',
  keep: '--keep',
  remove: '--remove',
  method: '--transform',
  transforms: '--transform',
  labels: '--label',
  sampleRows: '--sample-rows',
  onePass: '--one-pass',
  maxMemory: '--max-memory',
  threads: '--threads',
  backend: '--backend',
  layer: '--layer',
  key: '--key',
  column: '--column',
  field: '--field',
  diagnostics: '--no-report',
};

/** A library message with its `option` names replaced by the CLI flags that set them. */
export function cliMessage(message: string): string {
  return message.replace(/`([A-Za-z]+)`/g, (whole, name: string) => OPTION_FLAGS[name] ?? whole);
}

/**
 * Turns any error into what a user should see: one line on stderr and exit code 2 for problems
 * with their input or flags (errors marked `isUserError`), a short line and exit code 1 with a
 * pointer to the stack trace for our own bugs.
 */
export function reportError(err: unknown): void {
  const e = err as { isUserError?: boolean; message?: string; stack?: string };
  if (e && e.isUserError) {
    process.stderr.write(`isotropy: ${oneLine(cliMessage(String(e.message)))}\n`);
    process.exitCode = 2;
    return;
  }
  if (process.env.ISOTROPY_DEBUG) process.stderr.write(`${e?.stack ?? String(err)}\n`);
  else process.stderr.write(`isotropy: internal error: ${oneLine(String(e?.message ?? err))} (set ISOTROPY_DEBUG=1 for the stack trace, and please report it)\n`);
  process.exitCode = 1;
}

/** A message on one line: line breaks (any kind) become spaces, and it stops after 1000 characters. */
function oneLine(s: string): string {
  const flat = s.replace(/[\r\n\u2028\u2029]+/g, ' ');
  return flat.length > 1000 ? `${flat.slice(0, 1000)}... (${flat.length} characters)` : flat;
}

/** An error in how the command was called (flags, arguments). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly isUserError = true;
}
