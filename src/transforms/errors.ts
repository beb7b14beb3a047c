/** A bad transform name or parameter. */
export class TransformError extends Error {
  override readonly name = 'TransformError';
  /** The CLI prints the message alone and exits with code 2. */
  readonly isUserError = true;
}
