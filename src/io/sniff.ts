import { extname } from 'node:path';
import { npyFail, quote } from './errors.js';

/** The formats `openFormat` reads. `zip` is an .npz (or a PyTorch file, refused) until its members are seen. */
export const FORMATS = ['npy', 'npz', 'safetensors', 'parquet', 'arrow', 'hdf5', 'glove', 'word2vec', 'csv', 'tsv', 'jsonl'] as const;
export type FormatName = (typeof FORMATS)[number];

/** Bytes of the start of a file that {@link sniffFormat} looks at. */
export const SNIFF_BYTES = 64 * 1024;

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}

/**
 * Which format a file holds, from its first bytes (`head`, up to {@link SNIFF_BYTES}) and its
 * size; the extension of `name` only breaks ties between text formats (`.tsv` vs a CSV whose
 * first line has tabs and commas, `.jsonl`). Binary formats are recognised by their magic bytes
 * whatever the extension says.
 *
 * @returns the format (`'npz'` for any zip: the .npz reader tells a PyTorch zip apart).
 * @throws NpyError for files recognised as something isotropy does not read (pickles and
 *   PyTorch files, Feather v1, gzip) or not recognised at all, with what to do instead.
 */
export function sniffFormat(head: Uint8Array, size: number, name: string): FormatName {
  const ext = extname(name.replace(/[?#].*$/, '')).toLowerCase();
  if (size === 0 || head.length === 0) throw npyFail(name, `empty file (0 bytes): the embeddings were never written; re-save them`);
  if (startsWith(head, [0x93, ...ascii('NUMPY')])) return 'npy';
  if (startsWith(head, ascii('PK\x03\x04')) || startsWith(head, ascii('PK\x05\x06'))) return 'npz';
  if (head[0] === 0x80 && head.length > 1 && head[1] >= 2 && head[1] <= 5) {
    if (ext === '.pt' || ext === '.pth' || ext === '.bin' || ext === '.ckpt') throw pytorchError(name);
    throw npyFail(name, `is a Python pickle; isotropy never unpickles: load it in Python and save the array with np.save(path, arr.astype(np.float32))`);
  }
  if (startsWith(head, ascii('PAR1'))) return 'parquet';
  if (startsWith(head, ascii('ARROW1'))) return 'arrow';
  // An Arrow IPC stream starts with the continuation marker and the schema message's length.
  if (startsWith(head, [0xff, 0xff, 0xff, 0xff]) && head.length >= 8) return 'arrow';
  if (startsWith(head, ascii('FEA1'))) {
    throw npyFail(name, `is a Feather v1 file, which is not supported: re-save it as Feather v2 (pyarrow.feather.write_feather(table, path), the default) or Parquet`);
  }
  for (const at of [0, 512, 1024, 2048]) if (startsWith(head, HDF5_MAGIC, at)) return 'hdf5';
  if (startsWith(head, [0x1f, 0x8b])) {
    throw npyFail(name, `is gzip-compressed: decompress it first (gunzip ${ext === '.gz' ? name : `-S '' ${name}`}) and give the decompressed file`);
  }
  if (startsWith(head, [0x28, 0xb5, 0x2f, 0xfd])) throw npyFail(name, `is zstd-compressed: decompress it first (zstd -d) and give the decompressed file`);
  if (isSafetensors(head, size)) return 'safetensors';
  return sniffText(head, name, ext);
}

/** The error for a PyTorch checkpoint (zip or legacy pickle): we never unpickle, here is the conversion. */
export function pytorchError(name: string): Error {
  return npyFail(
    name,
    `is a PyTorch file (torch.save), which needs unpickling; isotropy never unpickles: convert it in Python with t = torch.load(path); np.save('emb.npy', t.float().numpy())`,
  );
}

/** safetensors: an 8-byte little-endian header length N, then a JSON object of N bytes. */
function isSafetensors(head: Uint8Array, size: number): boolean {
  if (head.length < 10 || size < 10) return false;
  const dv = new DataView(head.buffer, head.byteOffset, 8);
  const n = dv.getBigUint64(0, true);
  // A length past the end still means safetensors when JSON follows: its reader says what is wrong.
  if (n < 2n || (n > BigInt(size - 8) && head[8] !== 0x7b)) return false;
  let i = 8;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x0a || head[i] === 0x09 || head[i] === 0x0d)) i++;
  return head[i] === 0x7b; // '{'
}

/** Extensions of binary formats: a file so named without that format's magic is not misread as text. */
const BINARY_EXTENSIONS: Record<string, string> = {
  '.npy': '.npy', '.npz': '.npz', '.safetensors': 'safetensors', '.parquet': 'Parquet', '.arrow': 'Arrow',
  '.feather': 'Feather', '.arrows': 'Arrow', '.h5': 'HDF5', '.hdf5': 'HDF5', '.hdf': 'HDF5',
};

function sniffText(head: Uint8Array, name: string, ext: string): FormatName {
  const claimed = BINARY_EXTENSIONS[ext];
  if (claimed !== undefined) {
    const hint = claimed === '.npy' ? 're-save the array with np.save' : 'the file is damaged or was renamed; check how it was written';
    throw npyFail(name, `not a ${claimed} file (bad magic: it starts with ${quote(new TextDecoder('latin1').decode(head.subarray(0, 16)), 40)}): ${hint}`);
  }
  // word2vec binary: "n d\n" then words followed by raw float32s.
  const nl = head.indexOf(0x0a);
  const firstLine = new TextDecoder('latin1').decode(head.subarray(0, nl < 0 ? Math.min(head.length, 200) : nl));
  const w2vHeader = /^\s*\d+\s+\d+\s*$/.test(firstLine);
  if (w2vHeader && nl >= 0 && !looksLikeText(head.subarray(nl + 1))) return 'word2vec';
  if (!looksLikeText(head)) {
    throw npyFail(
      name,
      `is not in a format isotropy reads (not .npy/.npz, safetensors, Parquet, Arrow/Feather, HDF5, word2vec, or text: GloVe, CSV/TSV, JSONL); convert it with np.save(path, arr.astype(np.float32))`,
    );
  }
  const text = new TextDecoder('utf-8').decode(head);
  const lines = text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l.trim() !== '');
  const first = lines[0] ?? '';
  const trimmed = first.trimStart();
  if (trimmed.startsWith('{') || ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (trimmed.startsWith('[')) return 'jsonl';
  if (w2vHeader) return 'glove'; // word2vec text format: a "n d" header, then GloVe-like lines
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.csv') return 'csv';
  if (first.includes('\t')) return 'tsv';
  if (first.includes(',')) return 'csv';
  // Whitespace-separated: GloVe when the first token of the data lines is a word.
  const data = lines.slice(0, 5);
  const wordFirst = data.filter((l) => !isNumberToken(l.trim().split(/\s+/)[0])).length;
  if (wordFirst > 0 || ext === '.vec') return 'glove';
  return 'csv';
}

/** True when `b` has no NUL bytes and few control characters: text, not binary floats. */
function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 4096);
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c === 0) return false;
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) bad++;
  }
  return bad <= n / 100;
}

/** A number as text formats write it (including nan/inf spellings). */
export function isNumberToken(t: string | undefined): boolean {
  if (t === undefined || t === '') return false;
  if (!Number.isNaN(Number(t))) return true;
  return /^[+-]?(nan|inf|infinity)$/i.test(t);
}
