/**
 * Turns any error into what a user should see: one line on stderr and exit code 2 for problems
 * with their input or flags (errors marked `isUserError`), a short line and exit code 1 with a
 * pointer to the stack trace for our own bugs.
 */
export function reportError(err: unknown): void {
  const e = err as { isUserError?: boolean; message?: string; stack?: string };
  if (e && e.isUserError) {
    process.stderr.write(`isotropy: ${e.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (process.env.ISOTROPY_DEBUG) process.stderr.write(`${e?.stack ?? String(err)}\n`);
  else process.stderr.write(`isotropy: internal error: ${e?.message ?? String(err)} (set ISOTROPY_DEBUG=1 for the stack trace, and please report it)\n`);
  process.exitCode = 1;
}

/** An error in how the command was called (flags, arguments). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly isUserError = true;
}
