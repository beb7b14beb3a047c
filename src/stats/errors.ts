/** A problem with the data itself (too few rows, a non-finite value, incompatible shards). */
export class StatsError extends Error {
  override readonly name = 'StatsError';
  /** The CLI prints the message alone and exits with code 2. */
  readonly isUserError = true;
}

/** A row holds NaN or +-Inf and the caller did not ask to drop such rows. */
export class NonFiniteRowError extends StatsError {
  /** @param row 0-based index of the first bad row among the rows given to the accumulator */
  constructor(readonly row: number, readonly column: number, readonly value: number) {
    super(
      `row ${row} (0-based) holds ${Number.isNaN(value) ? 'NaN' : value > 0 ? 'Inf' : '-Inf'} in dimension ${column}: ` +
        'fix the embeddings, or set `dropNonfinite` to skip such rows (they are counted and reported)',
    );
  }
}
