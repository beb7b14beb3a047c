import { npyFail, quote } from './errors.js';
import { torchZipHint } from './torch-zip.js';

/** The six magic bytes every .npy file starts with: `\x93NUMPY`. */
export const NPY_MAGIC = Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59);

/** What {@link parseNpyHeader} returns. */
export interface NpyHeader {
  /** Format version `[major, minor]`: `[1, 0]`, `[2, 0]` or `[3, 0]`. */
  version: [number, number];
  /** The dtype string exactly as written, e.g. `'<f4'` (not validated here, see `parseDtype`). */
  descr: string;
  fortranOrder: boolean;
  /** Every dimension, as written (may be any length, including `[]` for a 0-D array). */
  shape: number[];
  /** Bytes before the array data (magic + version + length field + header text). */
  dataOffset: number;
}

/**
 * Parses the preamble and header dict of a .npy file.
 *
 * The header is a Python dict literal; it is parsed as data by a small tokenizer that knows
 * strings, ints, True/False/None, tuples, lists and dicts, and nothing else, so a hostile
 * header (`__import__('os')...`) is just "unparseable". Keys may come in any order; unknown
 * extra keys are ignored.
 *
 * Throws an NpyError (message prefixed with `path` when given) for a zip (.npz) or pickle
 * file, bad magic, an unsupported version, a header that runs past the end of `bytes`, an
 * unparseable header, missing/ill-typed keys, or a structured (list) descr.
 *
 * @param bytes - the start of the file; must hold at least the whole header (`dataOffset` bytes).
 * @param path - used only for error messages.
 */
export function parseNpyHeader(bytes: Uint8Array, path?: string): NpyHeader {
  const { major, minor, preamble, dataOffset } = readPreamble(bytes, path);
  if (dataOffset > bytes.length) {
    throw npyFail(
      path,
      `truncated header: the header length field says ${dataOffset - preamble} bytes but only ${bytes.length - preamble} follow it (past the end of the file); the file is cut off or not a .npy file`,
    );
  }
  const raw = bytes.subarray(preamble, dataOffset);
  // Versions 1 and 2 are latin1 by spec; 3.0 exists only to allow utf8 (field names).
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(raw);
  } catch {
    throw npyFail(path, `unparseable .npy header: the version ${major}.0 header is not valid ${major === 3 ? 'UTF-8' : 'latin1'} text`);
  }

  let value: PyValue;
  try {
    value = parsePyLiteral(text);
  } catch (err) {
    if (err instanceof HeaderSyntaxError) {
      throw npyFail(path, `unparseable .npy header (${err.message}): ${preview(text)}`);
    }
    throw err;
  }
  if (!(value instanceof PyDict)) {
    throw npyFail(path, `unparseable .npy header (expected a dict): ${preview(text)}`);
  }
  const missing = ['descr', 'fortran_order', 'shape'].filter((k) => !value.map.has(k));
  if (missing.length > 0) {
    throw npyFail(path, `bad .npy header: missing key ${missing.map((k) => `'${k}'`).join(', ')}: ${preview(text)}`);
  }

  const descr = value.map.get('descr');
  if (Array.isArray(descr)) {
    throw npyFail(
      path,
      `structured arrays are not supported: save a plain 2-D float array (this one has ${descr.length} named field${descr.length === 1 ? '' : 's'}; e.g. np.save(path, arr['field'].astype(np.float32)))`,
    );
  }
  if (typeof descr !== 'string') {
    throw npyFail(path, `bad .npy header: 'descr' must be a string: ${preview(text)}`);
  }
  const fortran = value.map.get('fortran_order');
  if (typeof fortran !== 'boolean') {
    throw npyFail(path, `bad .npy header: 'fortran_order' must be True or False: ${preview(text)}`);
  }
  const shapeValue = value.map.get('shape');
  if (!(shapeValue instanceof PyTuple) || !shapeValue.items.every((x) => typeof x === 'number')) {
    throw npyFail(path, `bad .npy header: 'shape' must be a tuple of integers: ${preview(text)}`);
  }
  const shape = shapeValue.items as number[];
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw npyFail(path, `bad .npy header: shape ${shapeInMessage(shape)} has a dimension that is negative or too large`);
    }
  }
  return { version: [major, minor], descr, fortranOrder: fortran, shape: shape.slice(), dataOffset };
}

/** The fixed-size start of a .npy file, see {@link readPreamble}. */
export interface NpyPreamble {
  major: number;
  minor: number;
  /** Bytes of magic + version + header-length field: 10 for version 1, 12 for 2 and 3. */
  preamble: number;
  /** `preamble` + the header length: where the data starts. May exceed `bytes.length`. */
  dataOffset: number;
}

/**
 * Checks the magic and version and reads the header length, without parsing the header.
 * Lets a reader learn how many bytes the header needs from the first 12 bytes of a file.
 * Throws an NpyError for non-.npy input, unsupported versions, or fewer bytes than the preamble.
 */
export function readPreamble(bytes: Uint8Array, path?: string): NpyPreamble {
  checkMagic(bytes, path);
  const major = bytes[6];
  const minor = bytes[7];
  if (!((major === 1 || major === 2 || major === 3) && minor === 0)) {
    throw npyFail(
      path,
      `unsupported .npy format version ${major}.${minor} (this reader knows 1.0, 2.0 and 3.0): re-save it with np.save`,
    );
  }
  const preamble = major === 1 ? 10 : 12;
  if (bytes.length < preamble) {
    throw npyFail(path, `truncated header: the file ends inside the .npy preamble (${bytes.length} bytes)`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, preamble);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  return { major, minor, preamble, dataOffset: preamble + headerLen };
}

/**
 * Throws the right "not a .npy file" NpyError unless `bytes` starts with the .npy magic.
 * Pickles and zips (.npz) get their own messages because they are the usual mix-ups.
 */
export function checkMagic(bytes: Uint8Array, path?: string): void {
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06])) {
    const torch = torchZipHint(bytes);
    if (torch) throw npyFail(path, torch);
    throw npyFail(
      path,
      `not a .npy file: this is a zip archive (an .npz from np.savez?): extract the array with np.load(f)['name'] and np.save it`,
    );
  }
  if (bytes.length > 0 && bytes[0] === 0x80) {
    throw npyFail(
      path,
      `not a .npy file: this looks like a Python pickle; isotropy never unpickles: load it in Python and np.save(path, arr.astype(np.float32))`,
    );
  }
  if (bytes.length < NPY_MAGIC.length) {
    if (startsWith(NPY_MAGIC, Array.from(bytes))) {
      throw npyFail(path, `truncated header: the file is only ${bytes.length} bytes, less than a .npy preamble`);
    }
    throw npyFail(path, `not a .npy file (bad magic): it is only ${bytes.length} bytes`);
  }
  if (!startsWith(bytes, NPY_MAGIC)) {
    throw npyFail(path, `not a .npy file (bad magic): .npy files start with \\x93NUMPY; save the array with np.save`);
  }
  if (bytes.length < 8) {
    throw npyFail(path, `truncated header: the file ends inside the .npy preamble (${bytes.length} bytes)`);
  }
}

function startsWith(bytes: ArrayLike<number>, prefix: ArrayLike<number>): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** Formats a shape the way Python prints a tuple: `()`, `(768,)`, `(3, 4)`. */
export function formatShape(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** {@link formatShape} for an error message: a 20,000-entry shape shows its first entries and its length. */
export function shapeInMessage(shape: readonly number[]): string {
  const full = formatShape(shape);
  if (full.length <= 100) return full;
  return `(${shape.slice(0, 6).join(', ')}, ... ${shape.length} entries)`;
}

/** The header text, quoted and cut (a 10 MB header is not a 10 MB message). */
function preview(text: string): string {
  return quote(text.trim());
}

// ---------------------------------------------------------------------------------------------
// A tiny parser for the Python literal subset numpy writes. Deliberately closed: every token
// kind is listed below and an unexpected one is a syntax error, never something to execute.

/** A Python tuple (kept distinct from lists because numpy's `shape` must be a tuple). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}
/** A Python dict with string keys. */
export class PyDict {
  constructor(readonly map: Map<string, PyValue>) {}
}
/** Values the header parser can produce; lists are plain arrays. */
export type PyValue = string | number | boolean | null | PyTuple | PyDict | PyValue[];

class HeaderSyntaxError extends Error {}

type Token =
  | { kind: 'punct'; value: string; pos: number }
  | { kind: 'str'; value: string; pos: number }
  | { kind: 'int'; value: number; pos: number }
  | { kind: 'name'; value: string; pos: number }
  | { kind: 'end'; pos: number };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v' || c === '\0') {
      // numpy pads with spaces and one '\n'; some old writers padded with NULs.
      i++;
      continue;
    }
    if ('{}()[],:'.includes(c)) {
      tokens.push({ kind: 'punct', value: c, pos: i });
      i++;
      continue;
    }
    if (c === "'" || c === '"' || ((c === 'u' || c === 'U') && (text[i + 1] === "'" || text[i + 1] === '"'))) {
      const start = i;
      if (c === 'u' || c === 'U') i++;
      const [value, next] = readString(text, i);
      tokens.push({ kind: 'str', value, pos: start });
      i = next;
      continue;
    }
    if ((c >= '0' && c <= '9') || ((c === '-' || c === '+') && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^[-+]?[0-9]+[lL]?/.exec(text.slice(i, i + 40));
      const digits = m![0];
      const after = text[i + digits.length] ?? '';
      if (/[0-9A-Za-z_.]/.test(after)) throw new HeaderSyntaxError(`bad number at offset ${i}`);
      // 'L' suffixes come from Python 2 numpy (`(3L, 4L)`).
      tokens.push({ kind: 'int', value: Number(digits.replace(/[lL]$/, '')), pos: i });
      i += digits.length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 64));
      const name = m![0];
      tokens.push({ kind: 'name', value: name, pos: i });
      i += name.length;
      continue;
    }
    throw new HeaderSyntaxError(`unexpected character ${quote(c)} at offset ${i}`);
  }
  tokens.push({ kind: 'end', pos: n });
  return tokens;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
};

function readString(text: string, i: number): [string, number] {
  const quote = text[i];
  let out = '';
  let j = i + 1;
  while (j < text.length) {
    const c = text[j];
    if (c === quote) return [out, j + 1];
    if (c === '\n') break;
    if (c === '\\') {
      const e = text[j + 1];
      if (e === undefined) break;
      if (e in SIMPLE_ESCAPES) {
        out += SIMPLE_ESCAPES[e];
        j += 2;
        continue;
      }
      const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
      if (hexLen > 0) {
        const hex = text.slice(j + 2, j + 2 + hexLen);
        if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) throw new HeaderSyntaxError(`bad escape at offset ${j}`);
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff) throw new HeaderSyntaxError(`bad escape at offset ${j}`);
        out += String.fromCodePoint(cp);
        j += 2 + hexLen;
        continue;
      }
      throw new HeaderSyntaxError(`unsupported escape \\${e} at offset ${j}`);
    }
    out += c;
    j++;
  }
  throw new HeaderSyntaxError(`unterminated string at offset ${i}`);
}

function parsePyLiteral(text: string): PyValue {
  const tokens = tokenize(text);
  let p = 0;
  const peek = (): Token => tokens[p];
  const isPunct = (t: Token, v: string): boolean => t.kind === 'punct' && t.value === v;
  const expect = (v: string): void => {
    const t = tokens[p];
    if (!isPunct(t, v)) throw new HeaderSyntaxError(`expected '${v}' at offset ${t.pos}`);
    p++;
  };
  let depth = 0;

  const parseValue = (): PyValue => {
    const t = tokens[p];
    if (++depth > 64) throw new HeaderSyntaxError('nested too deeply');
    try {
      switch (t.kind) {
        case 'str': {
          p++;
          let s = t.value;
          // Python joins adjacent string literals; harmless to support.
          while (tokens[p].kind === 'str') s += (tokens[p++] as { value: string }).value;
          return s;
        }
        case 'int':
          p++;
          return t.value;
        case 'name':
          p++;
          if (t.value === 'True') return true;
          if (t.value === 'False') return false;
          if (t.value === 'None') return null;
          throw new HeaderSyntaxError(`unexpected name ${quote(t.value, 40)} at offset ${t.pos}`);
        case 'end':
          throw new HeaderSyntaxError('unexpected end of header');
        case 'punct':
          break;
      }
      if (t.value === '{') {
        p++;
        const map = new Map<string, PyValue>();
        while (!isPunct(peek(), '}')) {
          const k = tokens[p];
          if (k.kind !== 'str') throw new HeaderSyntaxError(`dict keys must be strings (offset ${k.pos})`);
          p++;
          expect(':');
          const v = parseValue();
          if (map.has(k.value)) throw new HeaderSyntaxError(`duplicate key ${quote(k.value, 40)}`);
          map.set(k.value, v);
          if (isPunct(peek(), ',')) p++;
          else if (!isPunct(peek(), '}')) throw new HeaderSyntaxError(`expected ',' or '}' at offset ${peek().pos}`);
        }
        p++;
        return new PyDict(map);
      }
      if (t.value === '(' || t.value === '[') {
        const close = t.value === '(' ? ')' : ']';
        p++;
        const items: PyValue[] = [];
        let sawComma = false;
        while (!isPunct(peek(), close)) {
          items.push(parseValue());
          if (isPunct(peek(), ',')) {
            p++;
            sawComma = true;
          } else if (!isPunct(peek(), close)) {
            throw new HeaderSyntaxError(`expected ',' or '${close}' at offset ${peek().pos}`);
          }
        }
        p++;
        if (close === ']') return items;
        // `(5)` is just 5 in Python; only `()` and a comma make a tuple.
        if (items.length === 1 && !sawComma) return items[0];
        return new PyTuple(items);
      }
      throw new HeaderSyntaxError(`unexpected ${quote(String(t.value), 40)} at offset ${t.pos}`);
    } finally {
      depth--;
    }
  };

  const value = parseValue();
  if (peek().kind !== 'end') throw new HeaderSyntaxError(`unexpected text after the dict at offset ${peek().pos}`);
  return value;
}
