/**
 * The one error type for problems the user can fix (a bad, missing or unsupported file, an
 * output path that would clobber the input). The CLI prints only `message` for these and exits
 * with code 2, so messages are written to be read on their own: they start with the file path
 * and end with what to do about it.
 *
 * Programming errors (bad arguments to this module's functions) are plain `RangeError`s /
 * `TypeError`s instead, so they keep their stack trace in the CLI output.
 */
export class NpyError extends Error {
  override readonly name = 'NpyError';
  /** Marker the CLI checks (instead of `instanceof`, which breaks across duplicated module copies). */
  readonly isUserError = true;

  /**
   * @param message - the full message, shown as is (no prefix is added here: callers put the
   *   path first themselves, see {@link npyFail}).
   * @param path - the file the problem is about, kept for callers that want it separately.
   */
  constructor(
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

/** Builds the usual `${path}: ${message}` NpyError. */
export function npyFail(path: string | undefined, message: string): NpyError {
  return new NpyError(path === undefined ? message : `${path}: ${message}`, path);
}

/** Short text for an unknown thrown value, for wrapping fs errors into NpyErrors. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

const FS_REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder',
  EEXIST: 'already exists',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
  EFBIG: 'file too large for the file system',
  ENAMETOOLONG: 'file name too long',
  EXDEV: 'crosses file systems',
  EBUSY: 'resource busy',
};

/**
 * Short text for a file-system error without the paths Node puts in its messages (they would
 * name our temp files, which the user never asked for): "no space left on the device (ENOSPC)".
 */
export function describeFsError(err: unknown): string {
  const code = errorCode(err);
  if (code) return FS_REASONS[code] ? `${FS_REASONS[code]} (${code})` : code;
  return describeError(err);
}

/** The `code` of a Node system error (`'ENOENT'`, ...), or undefined. */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** Longest piece of a file's content (or of any user-given string) quoted in a message. */
export const MAX_QUOTE_CHARS = 100;

/**
 * A value from an input, quoted for an error message: JSON-quoted, cut to about `max`
 * characters with `...` and the full length, so that a 10 MB header never becomes a 10 MB line.
 * Control characters and line separators come out escaped.
 */
export function quote(value: unknown, max = MAX_QUOTE_CHARS): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  if (text.length <= max) return escapeLine(JSON.stringify(text));
  return `${escapeLine(JSON.stringify(text.slice(0, max)).slice(0, -1))}..." (${text.length} characters)`;
}

/** JSON.stringify leaves U+2028/U+2029 raw; a message is one line, so escape them too. */
function escapeLine(s: string): string {
  return s.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
