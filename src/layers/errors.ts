/** A bad IsoBN layer option or a model file that cannot be saved or loaded. */
export class LayerError extends Error {
  override readonly name = 'LayerError';
  /** The CLI prints the message alone and exits with code 2. */
  readonly isUserError = true;
}
