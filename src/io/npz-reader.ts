import yauzl from 'yauzl';
import type { ByteSource } from './byte-source.js';
import { sliceBytes } from './byte-slice.js';
import { decodeInto, parseDtype, type Dtype } from './dtype.js';
import { describeError, npyFail, quote } from './errors.js';
import { inflateMember } from './inflate-stream.js';
import { parseNpyHeader, readPreamble, shapeInMessage, type NpyHeader } from './npy-header.js';
import { openNpyBytes, selectLayer, selectLayers } from './npy-reader.js';
import type { FormatContext } from './open-format.js';
import { cursorSource, type RowCursor } from './row-source.js';
import { pytorchError } from './sniff.js';
import { pickKey, type Candidate } from './pick-key.js';
import { sourceView } from './source-view.js';
import type { EmbeddingSource, OpenOptions } from './types.js';

/** A zip entry as the reader needs it. */
interface Member {
  name: string;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  crc: number;
  entry: yauzl.Entry;
}

/** Bytes of a member's start inflated to read its .npy header (numpy's headers are under 4 KiB; bigger ones are read on). */
const HEADER_PROBE = 64 * 1024;

/**
 * Opens an .npz archive (np.savez, stored members, or np.savez_compressed, deflated members) and
 * reads one member as embeddings. `key` names the member (with or without `.npy`); by default
 * the only 2-D/3-D array, else an error listing every array with its shape and dtype. Stored
 * members are read like a .npy at an offset (random access); deflated ones are inflated as a
 * stream, one sequential read per pass. A PyTorch zip (`torch.save`) is named as such.
 *
 * The zip directory is read with yauzl (central directory, zip64, local headers); inflation is
 * node's zlib with the entry's size and CRC-32 checked.
 *
 * @throws NpyError for a damaged archive, a missing or ambiguous key, or a bad member.
 */
export async function openNpz(bytes: ByteSource, opts: OpenOptions, _ctx: FormatContext): Promise<EmbeddingSource> {
  const path = bytes.name;
  let zip: yauzl.ZipFile | null = null;
  try {
    zip = await openZip(bytes);
    const members = await listMembers(zip, path);
    if (members.some((m) => /(^|\/)data\.pkl$/.test(m.name)) || members.some((m) => /(^|\/)constants\.pkl$/.test(m.name))) {
      throw pytorchError(path);
    }
    const arrays = members.filter((m) => m.name.endsWith('.npy'));
    if (arrays.length === 0) {
      const names = members.slice(0, 5).map((m) => m.name).join(', ');
      throw npyFail(path, `is a zip archive without .npy members (${members.length} entries${names ? `: ${quote(names)}` : ''}), so not an .npz: save the array with np.savez(path, emb=arr)`);
    }
    const candidates: (Candidate & { member: Member })[] = [];
    for (const m of arrays) {
      const header = await memberHeader(zip, bytes, m, path);
      candidates.push({ key: m.name.slice(0, -4), shape: header.shape, dtype: header.descr, member: m });
    }
    const chosen = pickKey(path, candidates, opts.key, 'member');
    const m = chosen.member;
    const where = `${path}[${chosen.key}]`;
    const { fileDataStart } = await localHeader(zip, m.entry, path);
    if (m.method === 0) {
      const src = await openNpyBytes(sliceBytes(bytes, fileDataStart, m.uncompressedSize, where, true), { layer: opts.layer, layers: opts.layers });
      return sourceView(src, { path, format: 'npz' });
    }
    if (m.method !== 8) {
      throw npyFail(path, `member ${m.name} uses zip compression method ${m.method}; only stored and deflated members are read: re-save with np.savez or np.savez_compressed`);
    }
    return await deflatedSource(bytes, m, fileDataStart, path, where, opts);
  } catch (err) {
    await bytes.close().catch(() => undefined);
    throw err;
  } finally {
    zip?.close();
  }
}

/** yauzl's random-access reader, reading through the ByteSource (which the npz reader owns and closes). */
class ByteSourceReader extends yauzl.RandomAccessReader {
  constructor(private readonly bytes: ByteSource) {
    super();
  }
  override _readStreamForRange(): never {
    throw new Error('ByteSourceReader: only read() is used');
  }
  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null) => void): void {
    this.bytes.read(position, length).then(
      (b) => {
        buffer.set(b, offset);
        callback(null);
      },
      (err) => callback(err as Error),
    );
  }
  override close(callback: (err: Error | null) => void): void {
    callback(null);
  }
}

function openZip(bytes: ByteSource): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(
      new ByteSourceReader(bytes),
      bytes.size,
      { lazyEntries: true, autoClose: false, validateEntrySizes: true, decodeStrings: true, strictFileNames: false },
      (err, zip) => {
        if (err) reject(zipError(bytes.name, err));
        else resolve(zip);
      },
    );
  });
}

function zipError(path: string, err: unknown): Error {
  if ((err as { isUserError?: boolean }).isUserError) return err as Error;
  return npyFail(path, `is a damaged zip/.npz archive (${describeError(err)}): the file is truncated or corrupt; re-save it with np.savez`);
}

function listMembers(zip: yauzl.ZipFile, path: string): Promise<Member[]> {
  return new Promise((resolve, reject) => {
    const out: Member[] = [];
    zip.on('entry', (e: yauzl.Entry) => {
      if (!e.fileName.endsWith('/')) {
        out.push({ name: e.fileName, method: e.compressionMethod, compressedSize: e.compressedSize, uncompressedSize: e.uncompressedSize, crc: e.crc32, entry: e });
      }
      zip.readEntry();
    });
    zip.once('end', () => resolve(out));
    zip.once('error', (err) => reject(zipError(path, err)));
    zip.readEntry();
  });
}

function localHeader(zip: yauzl.ZipFile, entry: yauzl.Entry, path: string): Promise<{ fileDataStart: number }> {
  return new Promise((resolve, reject) => {
    // `minimal` reads only what locates the data; yauzl checks that the member fits in the file.
    (zip as unknown as { readLocalFileHeader(e: yauzl.Entry, o: object, cb: (err: Error | null, h: { fileDataStart: number }) => void): void })
      .readLocalFileHeader(entry, { minimal: true }, (err, h) => (err ? reject(zipError(path, err)) : resolve(h)));
  });
}

/** The .npy header at the start of a member (inflating only its first bytes when deflated). */
async function memberHeader(zip: yauzl.ZipFile, bytes: ByteSource, m: Member, path: string): Promise<NpyHeader> {
  const where = `${path}[${m.name.slice(0, -4)}]`;
  const { fileDataStart } = await localHeader(zip, m.entry, path);
  let head: Uint8Array;
  if (m.method === 0) {
    head = await bytes.read(fileDataStart, Math.min(m.uncompressedSize, HEADER_PROBE));
    const pre = readPreamble(head, where);
    if (pre.dataOffset > head.length && pre.dataOffset <= m.uncompressedSize) head = await bytes.read(fileDataStart, pre.dataOffset);
  } else if (m.method === 8) {
    head = await inflatePrefix(bytes, m, fileDataStart, path, HEADER_PROBE);
    const pre = readPreamble(head, where);
    if (pre.dataOffset > head.length && pre.dataOffset <= m.uncompressedSize) head = await inflatePrefix(bytes, m, fileDataStart, path, pre.dataOffset);
  } else {
    throw npyFail(path, `member ${m.name} uses zip compression method ${m.method}; only stored and deflated members are read: re-save with np.savez or np.savez_compressed`);
  }
  return parseNpyHeader(head, where);
}

async function inflatePrefix(bytes: ByteSource, m: Member, start: number, path: string, want: number): Promise<Uint8Array> {
  const out = new Uint8Array(Math.min(want, m.uncompressedSize));
  let got = 0;
  const it = inflateMember(bytes, start, m.compressedSize, m.uncompressedSize, path, m.name);
  try {
    for await (const chunk of it) {
      const k = Math.min(chunk.length, out.length - got);
      out.set(chunk.subarray(0, k), got);
      got += k;
      if (got === out.length) break;
    }
  } finally {
    await it.return(undefined);
  }
  return out.subarray(0, got);
}

/** A deflated member: validated like a .npy, then read as a stream of C-order rows. */
async function deflatedSource(bytes: ByteSource, m: Member, start: number, path: string, where: string, opts: OpenOptions): Promise<EmbeddingSource> {
  const header = parseNpyHeader(await inflatePrefix(bytes, m, start, path, HEADER_PROBE), where);
  // the same checks as a .npy (shape, layer, exact size): a zero-copy validation through the npy reader
  const dt = parseDtype(header.descr, where);
  const shape = header.shape;
  if (shape.length !== 2 && shape.length !== 3) {
    throw npyFail(where, `expected a 2-D (n, d) or 3-D (n, layers, d) array; got shape ${shapeInMessage(shape)}: pick another member with \`key\``);
  }
  if (shape.includes(0)) throw npyFail(where, `no rows to analyze: shape ${shapeInMessage(shape)} is empty`);
  const many = selectLayers(where, shape, opts);
  const layer = many ? null : selectLayer(where, shape, opts.layer);
  const n = shape[0];
  const L = shape.length === 3 ? shape[1] : 1;
  const d = shape[shape.length - 1];
  const expected = n * L * d * dt.itemsize;
  if (header.dataOffset + expected !== m.uncompressedSize) {
    throw npyFail(where, `header says ${shapeInMessage(shape)} ${quote(header.descr)} = ${expected} bytes of data but the member holds ${m.uncompressedSize - header.dataOffset}: the archive is damaged; re-save it`);
  }
  if (header.fortranOrder && d > 1 && n > 1) {
    throw npyFail(where, `is a Fortran-order array inside a compressed .npz, which cannot be streamed by rows: re-save it with np.savez_compressed(path, emb=np.ascontiguousarray(arr))`);
  }
  const notes = dt.note ? [dt.note] : [];
  return cursorSource(
    { path, format: 'npz', rows: n, dims: d * (many?.length ?? 1), dtype: header.descr, shape, layer, ...(many ? { layers: many } : {}), notes, rowBytes: L * d * dt.itemsize },
    {
      async openAt() {
        return new InflatedRows(inflateMember(bytes, start, m.compressedSize, m.uncompressedSize, path, m.name, m.crc), header.dataOffset, dt, L, d, many ?? [layer ?? 0]);
      },
      checkpointBefore: () => 0,
      close: () => bytes.close(),
    },
  );
}

/** Rows of a C-order array decoded from a stream of inflated chunks. */
class InflatedRows implements RowCursor {
  position = 0;
  private buf = new Uint8Array(0);
  private at = 0;
  private skipBytes: number;
  private readonly rowSpan: number;
  private ended = false;

  constructor(
    private readonly chunks: AsyncGenerator<Uint8Array>,
    dataOffset: number,
    private readonly dt: Dtype,
    L: number,
    private readonly d: number,
    private readonly layers: readonly number[],
  ) {
    this.skipBytes = dataOffset;
    this.rowSpan = L * d * dt.itemsize;
  }

  /** Makes at least `need` unread bytes available (fewer only at the end of the stream). */
  private async fill(need: number): Promise<void> {
    while (this.buf.length - this.at < need && !this.ended) {
      const next = await this.chunks.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      const rest = this.buf.subarray(this.at);
      const merged = new Uint8Array(rest.length + next.value.length);
      merged.set(rest);
      merged.set(next.value, rest.length);
      this.buf = merged;
      this.at = 0;
    }
  }

  async read(out: Float64Array, outRow: number, maxRows: number): Promise<number> {
    while (this.skipBytes > 0) {
      await this.fill(1);
      const k = Math.min(this.skipBytes, this.buf.length - this.at);
      if (k === 0) return 0;
      this.at += k;
      this.skipBytes -= k;
    }
    await this.fill(this.rowSpan);
    const avail = Math.floor((this.buf.length - this.at) / this.rowSpan);
    const rows = Math.min(avail, maxRows);
    const slice = this.d * this.dt.itemsize;
    const w = this.d * this.layers.length;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < this.layers.length; j++) {
        decodeInto(this.dt, this.buf, this.at + r * this.rowSpan + this.layers[j] * slice, this.d, out, (outRow + r) * w + j * this.d, 1);
      }
    }
    this.at += rows * this.rowSpan;
    this.position += rows;
    return rows;
  }

  async close(): Promise<void> {
    await this.chunks.return(undefined);
  }
}
