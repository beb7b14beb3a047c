import { createHash, randomBytes, type Hash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ByteSource } from './byte-source.js';
import { NpyError, npyFail, quote } from './errors.js';
import { trackTempFile, untrackTempFile } from './atomic-file.js';
import {
  HttpExpired, HttpNoAnswer, armTimer, contentLength, describeCause, discardBody, etagValue, fetchFollowing, parseContentRange,
} from './http-fetch.js';

/** How remote files are read. Every field has a default (from the environment where named). */
export interface RemoteOptions {
  /** sent as `Authorization: Bearer` to `tokenOrigin` only (never to a host a redirect leads to) */
  token?: string;
  /** the origin (`https://host:port`) the token is for; default the URL's own */
  tokenOrigin?: string;
  /**
   * milliseconds without headers or without a byte before a request is given up (and retried);
   * default `ISOTROPY_HTTP_TIMEOUT` (seconds), else 30 s
   */
  idleTimeoutMs?: number;
  /** retries of a request after a 5xx/429 answer, a reset or a stall; default `ISOTROPY_HTTP_RETRIES`, else 4 */
  retries?: number;
  /** wait before the first retry, doubled for each next one (a Retry-After header, up to 30 s, wins); default 500 ms */
  retryDelayMs?: number;
  /**
   * keep the fetched bytes in a temporary file (system temp folder, removed on close) so that the
   * analysis' second pass reads them from disk instead of fetching them again; default true
   * (`ISOTROPY_HTTP_CACHE=0` turns it off)
   */
  diskCache?: boolean;
}

/** What is known of a remote file after reading it: how to tell later that it is the same file. */
export interface RemoteIdentity {
  /** total size in bytes, from Content-Range */
  size: number;
  /** the server's strong ETag, or null */
  etag: string | null;
  /** sha256 of the file when every byte of it was read (in order, from the start), else null */
  sha256: string | null;
  /** bytes received, retries included */
  fetched: number;
  /** HTTP requests made (redirects not counted) */
  requests: number;
}

/** A {@link ByteSource} over HTTP(S) Range requests, with what it has learned of the file. */
export interface RemoteByteSource extends ByteSource {
  identity(): RemoteIdentity;
}

/** Bytes asked for when opening: the file's first bytes (format detection reads them) and its size. */
const HEAD_BYTES = 64 * 1024;
/** Smallest request: shorter reads fetch this much and serve the next reads from it. */
const MIN_FETCH = 16 * 1024;
/** Recent responses kept for the reads that come back to the same bytes (headers, page probes, first rows). */
const CACHE_SLOTS = 4;
/** Largest response kept (so the cache holds at most 4 MiB). */
const MAX_CACHED = 1024 * 1024;
const DEFAULT_IDLE_S = 30;
const DEFAULT_RETRIES = 4;
const MAX_RETRY_AFTER_MS = 30_000;

/** A failure worth another attempt: a 5xx or 429 answer, a reset, a stall, a short body. */
class Transient extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new NpyError(`${name} is ${quote(v)}: expected a number (0 or more)`);
  return n;
}

/** Retry-After in milliseconds (seconds or an HTTP date), capped, or null. */
function retryAfter(res: Response): number | null {
  const v = res.headers.get('retry-after');
  if (v === null) return null;
  const s = Number(v);
  const ms = Number.isFinite(s) ? s * 1000 : Date.parse(v) - Date.now();
  return Number.isFinite(ms) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms)) : null;
}

/**
 * Opens a file on an HTTP(S) server for random access with Range requests, so that a reader
 * fetches only the bytes it needs (a Parquet column's chunks, a .npy's blocks).
 *
 * Opening asks for the first 64 KiB and learns the size from `Content-Range`. A server that
 * ignores Range (answers 200 with the whole file) is refused unless the whole file is that small.
 * Every answer is checked: the range and total must be the ones asked for and known, the body
 * exactly as long, and the ETag unchanged (the file must not change while it is read). Fetched
 * bytes are kept in a temporary file (removed on close) so that later reads of them (a second
 * pass) cost no traffic: a remote input is fetched once. 5xx and 429
 * answers, resets, stalls and short bodies are retried with exponential backoff; 401/403/404 and
 * broken answers fail at once.
 *
 * @param url - the http(s) URL to request
 * @param name - the input as the user wrote it (a URL or `hf://...`), used in messages; default `url`
 * @throws NpyError (one line, naming the input and what to do) for every failure
 */
export async function openHttpBytes(url: string, opts: RemoteOptions & { name?: string } = {}): Promise<RemoteByteSource> {
  const source = new HttpSource(url, opts.name ?? url, {
    token: opts.token,
    tokenOrigin: opts.tokenOrigin,
    idleTimeoutMs: opts.idleTimeoutMs ?? envNumber('ISOTROPY_HTTP_TIMEOUT', DEFAULT_IDLE_S) * 1000,
    retries: opts.retries ?? envNumber('ISOTROPY_HTTP_RETRIES', DEFAULT_RETRIES),
    retryDelayMs: opts.retryDelayMs ?? 500,
    diskCache: opts.diskCache ?? process.env.ISOTROPY_HTTP_CACHE !== '0',
  });
  await source.open();
  return source;
}

class HttpSource implements RemoteByteSource {
  size = 0;
  private etag: string | null = null;
  private closed = false;
  private fetched = 0;
  private requests = 0;
  private readonly cache: { start: number; bytes: Uint8Array }[] = [];
  /** fetched bytes at their own offsets in a sparse temp file, and which ranges it holds (sorted, disjoint) */
  private disk: { fh: FileHandle; path: string; ranges: [number, number][] } | null = null;
  private diskFailed = false;
  private readonly hash: Hash = createHash('sha256');
  private hashed = 0;
  private readonly idleMs: number;

  constructor(
    private readonly url: string,
    readonly name: string,
    private readonly opts: Required<Omit<RemoteOptions, 'token' | 'tokenOrigin'>> & Pick<RemoteOptions, 'token' | 'tokenOrigin'>,
  ) {
    this.idleMs = opts.idleTimeoutMs === 0 ? Infinity : opts.idleTimeoutMs;
  }

  async open(): Promise<void> {
    const head = await this.withRetries(() => this.request(0, HEAD_BYTES, true));
    this.keep(0, head);
    await this.toDisk(0, head);
  }

  identity(): RemoteIdentity {
    const whole = this.hashed === this.size;
    return { size: this.size, etag: this.etag, sha256: whole ? this.hash.copy().digest('hex') : null, fetched: this.fetched, requests: this.requests };
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.closed) throw npyFail(this.name, 'read after close');
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw npyFail(this.name, `read of ${length} bytes at offset ${offset} runs past the end of the file (${this.size} bytes): the file is truncated or its header lies`);
    }
    if (length === 0) return new Uint8Array(0);
    for (const c of this.cache) {
      if (offset >= c.start && offset + length <= c.start + c.bytes.length) return c.bytes.subarray(offset - c.start, offset - c.start + length);
    }
    const held = await this.fromDisk(offset, length);
    if (held) return held;
    // the start already on disk (the first bytes, fetched when opening): fetch only the rest
    const have = this.disk?.ranges.find(([a, b]) => a <= offset && offset < b);
    if (have) {
      const head = await this.fromDisk(offset, have[1] - offset);
      if (head) {
        const out = new Uint8Array(length);
        out.set(head);
        out.set(await this.read(have[1], length - head.length), head.length);
        return out;
      }
    }
    const want = Math.min(this.size - offset, Math.max(length, MIN_FETCH));
    const bytes = await this.withRetries(() => this.request(offset, want, false));
    await this.toDisk(offset, bytes);
    // Small answers are kept: readers often read the same bytes again soon (a probe of the first
    // rows, then the pass; a footer, then its metadata), and every request costs a round trip.
    if (want <= MAX_CACHED) this.keep(offset, bytes);
    return bytes.subarray(0, length);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cache.length = 0;
    const disk = this.disk;
    this.disk = null;
    if (disk) {
      await disk.fh.close().catch(() => undefined);
      await rm(disk.path, { force: true });
      untrackTempFile(disk.path);
    }
  }

  /** The bytes from the disk cache when it holds all of them, else null. */
  private async fromDisk(offset: number, length: number): Promise<Uint8Array | null> {
    const d = this.disk;
    if (!d || !d.ranges.some(([a, b]) => a <= offset && offset + length <= b)) return null;
    const out = new Uint8Array(length);
    for (let done = 0; done < length; ) {
      const { bytesRead } = await d.fh.read(out, done, length - done, offset + done);
      if (bytesRead === 0) return null;
      done += bytesRead;
    }
    return out;
  }

  /** Writes fetched bytes into the disk cache; a cache that cannot be written (disk full) is given up, not fatal. */
  private async toDisk(offset: number, bytes: Uint8Array): Promise<void> {
    if (!this.opts.diskCache || this.diskFailed || this.closed) return;
    try {
      if (!this.disk) {
        const path = join(tmpdir(), `isotropy-http-${process.pid}-${randomBytes(6).toString('hex')}`);
        this.disk = { fh: await open(path, 'wx+', 0o600), path, ranges: [] };
        trackTempFile(path);
      }
      const d = this.disk;
      await d.fh.write(bytes, 0, bytes.length, offset);
      // merge [offset, offset + length) into the sorted, disjoint ranges
      let lo = offset, hi = offset + bytes.length;
      const kept: [number, number][] = [];
      for (const [a, b] of d.ranges) {
        if (b < lo || a > hi) kept.push([a, b]);
        else [lo, hi] = [Math.min(lo, a), Math.max(hi, b)];
      }
      kept.push([lo, hi]);
      d.ranges = kept.sort((x, y) => x[0] - y[0]);
    } catch {
      this.diskFailed = true;
    }
  }

  private keep(start: number, bytes: Uint8Array): void {
    this.cache.unshift({ start, bytes });
    if (this.cache.length > CACHE_SLOTS) this.cache.pop();
  }

  private async withRetries(attempt: () => Promise<Uint8Array>): Promise<Uint8Array> {
    for (let k = 0; ; k++) {
      try {
        return await attempt();
      } catch (err) {
        if (!(err instanceof Transient)) throw err;
        if (k >= this.opts.retries || this.closed) {
          throw npyFail(this.name, `${err.message}, ${k + 1} time${k ? 's' : ''}: the server or the network is failing; try again later${k ? '' : ' (ISOTROPY_HTTP_RETRIES allows retries)'}`);
        }
        const delay = err.retryAfterMs ?? this.opts.retryDelayMs * 2 ** k;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** One GET of bytes `[start, start + length)` (`opening`: the first one, which learns the size). */
  private async request(start: number, length: number, opening: boolean): Promise<Uint8Array> {
    let got;
    this.requests++;
    try {
      got = await fetchFollowing(this.url, {
        idleMs: this.idleMs,
        headers: { range: `bytes=${start}-${start + length - 1}` },
        token: this.opts.token,
        tokenOrigin: this.opts.tokenOrigin,
      });
    } catch (err) {
      if (!(err instanceof HttpNoAnswer)) throw err;
      throw new Transient(err.expired ? `no answer within ${this.idleText()}` : `cannot reach the server (${err.causeText})`);
    }
    if (got === null) throw npyFail(this.name, 'too many redirects: check the URL');
    const { res, abort } = got;
    try {
      return await this.answer(res, abort, start, length, opening);
    } finally {
      abort.abort();
    }
  }

  private async answer(res: Response, abort: AbortController, start: number, length: number, opening: boolean): Promise<Uint8Array> {
    const status = res.status;
    if (status === 401 || status === 403) {
      await discardBody(res);
      const hint = this.opts.token ? 'the token (HF_TOKEN for hf://) cannot read it: use one with access' : 'it is private or gated: set HF_TOKEN for hf://, or use a URL that grants access';
      throw npyFail(this.name, `access denied (HTTP ${status}): ${hint}`);
    }
    if (status === 404 || status === 410) {
      await discardBody(res);
      throw npyFail(this.name, `not found (HTTP ${status}): check the URL${this.name.startsWith('hf://') ? ', the repo, the path and the revision (--revision)' : ''}`);
    }
    if (status >= 500 || status === 429) {
      await discardBody(res);
      throw new Transient(`HTTP ${status} ${quote(res.statusText, 60)}`, retryAfter(res));
    }
    if (opening && status === 416) {
      await discardBody(res);
      throw npyFail(this.name, 'is an empty file (the server cannot serve its first byte): the embeddings were never written');
    }
    if (status === 200) {
      // The server ignored Range: acceptable only for a file no larger than what was asked when opening.
      const total = contentLength(res);
      if (!opening || total === null || total > length) {
        await discardBody(res);
        throw npyFail(
          this.name,
          `the server does not honour HTTP Range requests (it answered 200 with the whole file${total !== null ? `, ${total} bytes` : ''}): reading parts of it is impossible; download the file and give its local path`,
        );
      }
      if (total === 0) throw npyFail(this.name, 'is an empty file (0 bytes): the embeddings were never written');
      this.size = total;
      this.etag = etagValue(res.headers.get('etag'));
      return this.body(res, abort, 0, total);
    }
    if (status !== 206) {
      await discardBody(res);
      throw npyFail(this.name, `unexpected answer HTTP ${status} ${quote(res.statusText, 60)} to a Range request: the server or a proxy is broken`);
    }
    const range = parseContentRange(res.headers.get('content-range'));
    if (range === null || range.total === null) {
      await discardBody(res);
      throw npyFail(this.name, `the server answered a Range request without a valid Content-Range (${quote(res.headers.get('content-range') ?? 'none')}): it does not support partial reads properly; download the file instead`);
    }
    if (opening) {
      if (range.total === 0) throw npyFail(this.name, 'is an empty file (0 bytes): the embeddings were never written');
      this.size = range.total;
      this.etag = etagValue(res.headers.get('etag'));
      length = Math.min(length, range.total);
    } else {
      if (range.total !== this.size) {
        await discardBody(res);
        throw npyFail(this.name, `the file changed while it was read (${this.size} bytes at first, ${range.total} now): rerun when it is finished`);
      }
      const tag = etagValue(res.headers.get('etag'));
      if (this.etag !== null && tag !== null && tag !== this.etag) {
        await discardBody(res);
        throw npyFail(this.name, `the file changed while it was read (ETag ${quote(this.etag)} at first, ${quote(tag)} now): rerun when it is finished`);
      }
    }
    if (range.start !== start || range.end !== start + length - 1) {
      await discardBody(res);
      throw npyFail(this.name, `the server answered bytes ${range.start}-${range.end} to a request for ${start}-${start + length - 1}: its Range support is broken; download the file instead`);
    }
    const announced = contentLength(res);
    if (announced !== null && announced !== length) {
      await discardBody(res);
      throw npyFail(this.name, `the server announced ${announced} bytes (Content-Length) for a range of ${length}: its answers are inconsistent; download the file instead`);
    }
    return this.body(res, abort, start, length);
  }

  /** Reads exactly `length` body bytes, with the idle timer on every chunk; hashes them when they extend the hashed prefix. */
  private async body(res: Response, abort: AbortController, start: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let done = 0;
    if (res.body === null) throw new Transient('empty answer');
    const reader = res.body.getReader();
    try {
      for (;;) {
        const timer = armTimer(abort, { idleMs: this.idleMs });
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (err) {
          const why = abort.signal.reason;
          if (why instanceof HttpExpired) throw new Transient(`the transfer stalled (no byte for ${this.idleText()}) after ${done} of ${length} bytes`);
          throw new Transient(`the connection failed (${describeCause(err)}) after ${done} of ${length} bytes`);
        } finally {
          clearTimeout(timer);
        }
        if (chunk.done) break;
        const bytes = chunk.value;
        this.fetched += bytes.length;
        if (done + bytes.length > length) {
          throw npyFail(this.name, `the server sent more than the ${length} bytes asked for: its answers are inconsistent; download the file instead`);
        }
        out.set(bytes, done);
        done += bytes.length;
      }
    } finally {
      reader.releaseLock();
    }
    if (done < length) throw new Transient(`the connection closed after ${done} of ${length} bytes`);
    if (start <= this.hashed && start + length > this.hashed) {
      this.hash.update(out.subarray(this.hashed - start));
      this.hashed = start + length;
    }
    return out;
  }

  private idleText(): string {
    return `${this.idleMs / 1000} s (ISOTROPY_HTTP_TIMEOUT)`;
  }
}
