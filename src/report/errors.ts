/** An analysis the report cannot draw (not an analysis, or inconsistent); printed as one line. */
export class ReportError extends Error {
  override readonly name = 'ReportError';
  readonly isUserError = true;
}
