import type { ByteSource } from './byte-source.js';
import { npyFail } from './errors.js';
import type { FormatContext } from './open-format.js';
import { cursorSource, type RowCursor } from './row-source.js';
import type { EmbeddingSource, OpenOptions } from './types.js';

/** Bytes read per step. */
const WINDOW = 4 << 20;
/** A longer word is a damaged file, not a token. */
const MAX_WORD = 4096;

/**
 * Opens a word2vec binary file (the C tool's `-binary 1`, gensim's `save_word2vec_format(binary=True)`):
 * a text line `n d`, then n times a word, a space and d little-endian float32s (the C tool adds a
 * newline after each vector, gensim does not; both are read). Words are the row labels
 * (`source.labels()`). Rows are read in order from the start on every pass (word lengths vary,
 * so there is no index); a file that ends early or holds more than n rows fails.
 *
 * Our own code: the format is a dozen lines; no maintained npm reader streams it.
 */
export async function openWord2vecBinary(bytes: ByteSource, _opts: OpenOptions, _ctx: FormatContext): Promise<EmbeddingSource> {
  const path = bytes.name;
  try {
    const head = await bytes.read(0, Math.min(bytes.size, 256));
    const nl = head.indexOf(0x0a);
    const m = nl < 0 ? null : /^\s*(\d+)\s+(\d+)\s*$/.exec(new TextDecoder('latin1').decode(head.subarray(0, nl)));
    if (m === null) throw npyFail(path, 'is not a word2vec binary file: the first line must be "<rows> <dims>"');
    const n = Number(m[1]);
    const d = Number(m[2]);
    if (n === 0 || d === 0) throw npyFail(path, `no rows to analyze: the header says ${n} x ${d}`);
    const dataStart = nl + 1;
    if (dataStart + n * (d * 4 + 2) > bytes.size) {
      throw npyFail(path, `is truncated: the header says ${n} rows of ${d} float32s (at least ${n * (d * 4 + 2)} bytes) but the file holds ${bytes.size - dataStart} after it; re-save it`);
    }
    const open = () => new Word2vecRows(bytes, dataStart, n, d, path);
    return cursorSource(
      { path, format: 'word2vec', rows: n, dims: d, dtype: '<f4', shape: [n, d], layer: null, notes: [], rowBytes: d * 4 },
      {
        openAt: async () => open(),
        checkpointBefore: () => 0,
        close: () => bytes.close(),
        async labels() {
          const cur = open();
          const out: string[] = [];
          const scratch = new Float64Array(d);
          cur.onWord = (w) => out.push(w);
          while ((await cur.read(scratch, 0, 1)) > 0);
          return out;
        },
      },
    );
  } catch (err) {
    await bytes.close().catch(() => undefined);
    throw err;
  }
}

class Word2vecRows implements RowCursor {
  position = 0;
  private buf = new Uint8Array(0);
  /** file offset of buf[0] */
  private bufStart: number;
  private at = 0;
  private readonly decoder = new TextDecoder('utf-8');
  onWord?: (w: string) => void;

  constructor(
    private readonly bytes: ByteSource,
    start: number,
    private readonly n: number,
    private readonly d: number,
    private readonly path: string,
  ) {
    this.bufStart = start;
  }

  /** Makes `need` bytes from `at` available; false when the file has fewer. */
  private async ensure(need: number): Promise<boolean> {
    if (this.at + need <= this.buf.length) return true;
    const fileAt = this.bufStart + this.at;
    if (fileAt + need > this.bytes.size) return false;
    const want = Math.min(this.bytes.size - fileAt, Math.max(need, WINDOW));
    this.buf = (await this.bytes.read(fileAt, want)).slice();
    this.bufStart = fileAt;
    this.at = 0;
    return true;
  }

  async read(out: Float64Array, outRow: number, maxRows: number): Promise<number> {
    const d = this.d;
    let k = 0;
    while (k < maxRows && this.position < this.n) {
      // skip the newline the C tool writes after each vector
      for (;;) {
        if (!(await this.ensure(1))) throw this.short();
        const c = this.buf[this.at];
        if (c !== 0x0a && c !== 0x0d && c !== 0x20) break;
        this.at++;
      }
      let end = -1;
      for (let probe = 64; end < 0; probe *= 4) {
        const avail = (await this.ensure(Math.min(probe, this.bytes.size - this.bufStart - this.at))) ? Math.min(probe, this.buf.length - this.at) : 0;
        const sp = this.buf.subarray(this.at, this.at + avail).indexOf(0x20);
        if (sp >= 0) end = this.at + sp;
        else if (avail >= MAX_WORD || this.bufStart + this.at + avail >= this.bytes.size) {
          throw npyFail(this.path, `row ${this.position} (0-based): no word ends within ${MAX_WORD} bytes: the file is damaged or not word2vec binary`);
        }
      }
      if (this.onWord) this.onWord(this.decoder.decode(this.buf.subarray(this.at, end)));
      this.at = end + 1;
      if (!(await this.ensure(d * 4))) throw this.short();
      const dv = new DataView(this.buf.buffer, this.buf.byteOffset + this.at, d * 4);
      const o = (outRow + k) * d;
      for (let j = 0; j < d; j++) out[o + j] = dv.getFloat32(j * 4, true);
      this.at += d * 4;
      this.position++;
      k++;
    }
    if (this.position === this.n && k < maxRows) {
      // nothing but whitespace may follow the last row
      while (await this.ensure(1)) {
        const c = this.buf[this.at];
        if (c !== 0x0a && c !== 0x0d && c !== 0x20) {
          throw npyFail(this.path, `holds more data after the ${this.n} rows its header announces: the header lies or the file is damaged`);
        }
        this.at++;
      }
    }
    return k;
  }

  private short() {
    return npyFail(this.path, `is truncated: the header says ${this.n} rows but the file ends in row ${this.position} (0-based); re-save it`);
  }

  async close(): Promise<void> {}
}
