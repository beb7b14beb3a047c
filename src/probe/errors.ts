/** A problem with the probe's labels or options that the user can fix. */
export class ProbeError extends Error {
  override readonly name = 'ProbeError';
  /** The CLI prints the message alone and exits with code 2. */
  readonly isUserError = true;
}
