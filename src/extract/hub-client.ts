/**
 * HTTP requests against one hub repo at one revision, with the limits a download needs against a
 * slow, stuck or hostile server: an idle timeout (no headers, or no byte, for too long), an overall
 * deadline, a byte limit (the size the hub announced; 100 MiB for small files of unannounced size;
 * a safetensors file's own header otherwise), a lock per file shared between processes, and checks
 * (size, sha256 or git sha1 where the hub gives them, parseable JSON, an exact safetensors layout)
 * before a file is renamed into the cache.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { quote } from '../io/errors.js';
import {
  HttpExpired, HttpNoAnswer, armTimer, contentLength, describeCause, discardBody, etagValue, fetchFollowing, parseContentRange, sizeHeader,
} from '../io/http-fetch.js';
import { hubFileUrl } from '../io/hub-url.js';
import { sha256File } from '../io/sha256.js';
import { lock, tryLock, type HeldLock } from './file-lock.js';
import { readSafetensorsIndex, safetensorsSizeFromPrefix } from './safetensors.js';
import { ExtractError } from './types.js';

/** A failure to reach the server at all, or no answer in time (as opposed to an HTTP error status): a complete cached snapshot may stand in. */
export class HubNetworkError extends ExtractError {}

/** Bytes a file whose size nobody announced may have (config and tokenizer files are far smaller). */
export const MAX_UNANNOUNCED_BYTES = 100 * 1024 * 1024;

/** Limits of one `resolveModel` call. */
export interface HubLimits {
  /** Milliseconds without headers or without a body byte before a request fails. */
  idleMs: number;
  /** Date.now() value after which every request and wait fails; Infinity for none. */
  deadline: number;
  /** The deadline in seconds and how to change it, for messages (e.g. `3600 s (--download-deadline)`). */
  deadlineText: string;
  /** The idle timeout and how to change it, for messages. */
  idleText: string;
}

/** A response with what the hub said about the file along the redirects. */
export interface HubResponse {
  res: Response;
  /** The URL that answered (after redirects). */
  url: string;
  /** x-repo-commit from the first hop that had it. */
  commit: string | null;
  /** X-Linked-Size: the size of an LFS file, from the hub itself. */
  linkedSize: number | null;
  /** The file's sha256 (X-Linked-Etag, or the hub's ETag of an LFS file), lower-case hex. */
  sha256: string | null;
  /** The git blob sha1 (the hub's ETag of a file kept in git itself), lower-case hex. */
  gitSha1: string | null;
  /** Aborts the request and its body. */
  abort: AbortController;
}

/** Lets the connection be reused or closed without reading a body we do not want. */
export async function discard(r: HubResponse | Response): Promise<void> {
  await discardBody(r instanceof Response ? r : r.res);
}

/** git's object id of a file: sha1 of `blob <size>\0<content>`. */
async function gitBlobSha1(path: string, size: number): Promise<string> {
  const hash = createHash('sha1');
  hash.update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Learns a safetensors file's exact size from its first bytes, as they arrive. */
class SafetensorsSizeProbe {
  private chunks: Uint8Array[] = [];
  private have = 0;
  private need = 8;
  size: number | null = null;

  constructor(private readonly name: string) {}

  /** Feeds the next bytes of the file (from its start on). */
  feed(bytes: Uint8Array): void {
    if (this.size !== null || bytes.length === 0) return;
    this.chunks.push(bytes);
    this.have += bytes.length;
    while (this.size === null && this.have >= this.need) {
      const prefix = Buffer.concat(this.chunks);
      this.chunks = [prefix];
      const r = safetensorsSizeFromPrefix(this.name, prefix);
      if ('size' in r) {
        this.size = r.size;
        this.chunks = [];
      } else {
        this.need = r.need;
      }
    }
  }

  /** Feeds the start of a partial file already on disk. */
  async feedFile(fh: FileHandle, length: number): Promise<void> {
    let at = 0;
    while (this.size === null && at < length) {
      const want = Math.min(length, this.need) - at;
      if (want <= 0) break;
      const buf = Buffer.alloc(want);
      const { bytesRead } = await fh.read(buf, 0, want, at);
      if (bytesRead === 0) break;
      at += bytesRead;
      this.feed(buf.subarray(0, bytesRead));
    }
  }
}

/** Requests against one repo at one revision. */
export class HubClient {
  constructor(
    readonly endpoint: string,
    readonly repo: string,
    readonly revision: string,
    readonly token: string | undefined,
    readonly limits: HubLimits,
    readonly onProgress?: (file: string, bytesDone: number, bytesTotal: number | null) => void,
  ) {}

  url(file: string): string {
    return hubFileUrl(this.endpoint, this.repo, this.revision, file);
  }

  /** Aborts `ac` after the idle timeout or at the deadline, whichever comes first; returns the timer. */
  private arm(ac: AbortController): NodeJS.Timeout | undefined {
    return armTimer(ac, { idleMs: this.limits.idleMs, deadline: this.limits.deadline });
  }

  private deadlineError(what: string): ExtractError {
    return new ExtractError(`${this.repo}: the download deadline of ${this.limits.deadlineText} passed ${what}; run the same command again (finished files are kept, a partial one resumes), or allow more time`);
  }

  /**
   * GETs a file, following redirects by hand: the hub answers `resolve` with redirects (to a CDN
   * for large files, or within the hub), and the commit and LFS headers may sit on any hop.
   * The token goes only to the endpoint's own origin, never to a CDN.
   * @throws HubNetworkError when the server cannot be reached or sends no headers within the idle timeout
   */
  async get(file: string, range?: number): Promise<HubResponse> {
    const start = this.url(file);
    let commit: string | null = null;
    let linkedSize: number | null = null;
    let linkedEtag: string | null = null;
    let originEtag: string | null = null;
    if (Date.now() >= this.limits.deadline) throw this.deadlineError(`before ${start} was asked`);
    let got;
    try {
      got = await fetchFollowing(start, {
        idleMs: this.limits.idleMs,
        deadline: this.limits.deadline,
        headers: range !== undefined ? { range: `bytes=${range}-` } : {},
        token: this.token,
        tokenOrigin: new URL(this.endpoint).origin,
        onHop: (res, _url, sameOrigin) => {
          commit ??= res.headers.get('x-repo-commit');
          linkedSize ??= sizeHeader(res.headers.get('x-linked-size'));
          linkedEtag ??= etagValue(res.headers.get('x-linked-etag'));
          if (sameOrigin) originEtag = etagValue(res.headers.get('etag')) ?? originEtag;
        },
      });
    } catch (err) {
      if (!(err instanceof HttpNoAnswer)) throw err;
      const e = err;
      if (e.expired?.kind === 'deadline') throw this.deadlineError(`while waiting for ${e.url} to answer`);
      if (e.expired) {
        throw new HubNetworkError(
          `no answer from ${e.url} within ${this.limits.idleText}: the server or the network is stuck; try again later, set HF_ENDPOINT to a reachable mirror, or use --offline with a model already in the cache`,
        );
      }
      throw new HubNetworkError(
        `cannot reach ${e.url} (${e.causeText}): check the network connection, set HF_ENDPOINT to a reachable mirror, or use --offline with a model already in the cache`,
      );
    }
    if (got === null) throw new ExtractError(`${this.repo}: too many redirects for ${start}; check HF_ENDPOINT`);
    const tag = linkedEtag ?? originEtag;
    const sha256 = tag !== null && /^[0-9a-f]{64}$/.test(tag) ? tag : null;
    // An ETag of 40 hex digits is git's blob id of a file kept in git, not in LFS.
    const gitSha1 = linkedEtag === null && originEtag !== null && /^[0-9a-f]{40}$/.test(originEtag) ? originEtag : null;
    return { ...got, commit, linkedSize, sha256, gitSha1 };
  }

  statusError(res: Response, file: string, first: boolean): ExtractError {
    const code = res.headers.get('x-error-code');
    const where = `${this.endpoint}/${this.repo}`;
    const tokenHint =
      this.token === undefined || this.token === ''
        ? 'set HF_TOKEN to an access token that can read it'
        : 'the token in HF_TOKEN cannot read it; use one with access';
    if (code === 'GatedRepo') {
      return new ExtractError(`${this.repo} is gated: accept its terms at ${where} and ${tokenHint} (HTTP ${res.status})`);
    }
    if (code === 'RevisionNotFound') {
      return new ExtractError(`${this.repo}: revision ${quote(this.revision)} not found on ${this.endpoint}; check --revision`);
    }
    // The hub answers 401 RepoNotFound to anonymous requests for private and missing repos alike.
    if (code === 'RepoNotFound' || (first && res.status === 404 && code !== 'EntryNotFound')) {
      return new ExtractError(
        `${this.repo}: model id not found on ${this.endpoint} (and no folder of that name exists here); check the spelling, or if the model is private, ${tokenHint}`,
      );
    }
    if (res.status === 401 || res.status === 403) {
      return new ExtractError(`${this.repo}: access denied (HTTP ${res.status}) to ${this.url(file)}: the model is private or gated; ${tokenHint}`);
    }
    if (res.status === 404) {
      return new ExtractError(`${this.repo}: revision ${this.revision} has no ${file} on ${this.endpoint}; this is not a transformers model repo`);
    }
    const retry = res.status >= 500 || res.status === 429 ? '; the hub is busy or down: try again later, or use --offline with a cached model' : '';
    return new ExtractError(`${this.repo}: HTTP ${res.status} ${quote(res.statusText, 60)} from ${this.url(file)}${retry}`);
  }

  /**
   * Makes `target` hold `file`, downloading it under the lock `<target>.lock` (waiting while
   * another process downloads it, then using its result), resuming `<target>.incomplete` when it
   * exists. `first` is a response to a plain GET of the file already in hand (used when the lock
   * is free at once, else dropped).
   * @returns false when the hub answers 404 for this file.
   */
  async fetchFile(file: string, target: string, first?: HubResponse): Promise<boolean> {
    await mkdir(dirname(target), { recursive: true });
    const lockPath = `${target}.lock`;
    let held: HeldLock | null = first === undefined ? null : await tryLock(lockPath);
    if (held === null) {
      if (first !== undefined) await discard(first);
      first = undefined;
      const partial = `${target}.incomplete`;
      const got = await lock(lockPath, this.limits.deadline, async () => {
        const size = (await stat(partial).catch(() => null))?.size;
        if (size !== undefined) this.onProgress?.(file, size, null);
      });
      if (!('release' in got)) {
        const who = got.heldBy === null ? 'another process' : `process ${got.heldBy.pid} on ${got.heldBy.host}`;
        throw this.deadlineError(`while ${who} was downloading ${file} into the same cache (lock ${lockPath})`);
      }
      held = got;
    }
    try {
      if ((await stat(target).catch(() => null))?.isFile()) {
        if (first !== undefined) await discard(first);
        return true;
      }
      return await this.download(file, target, first);
    } finally {
      await held.release();
    }
  }

  /** The download itself; the caller holds the lock. */
  private async download(file: string, target: string, first: HubResponse | undefined): Promise<boolean> {
    const partial = `${target}.incomplete`;
    for (let attempt = 0; ; attempt++) {
      const have = (await stat(partial).catch(() => null))?.size ?? 0;
      let r: HubResponse;
      if (first !== undefined && have === 0) r = first;
      else {
        if (first !== undefined) await discard(first);
        r = await this.get(file, have > 0 ? have : undefined);
      }
      first = undefined;
      const { res } = r;
      if (res.status === 404) {
        await discard(r);
        return false;
      }
      if (have > 0 && res.status === 416 && attempt === 0) {
        // The partial file is as long as (or longer than) the file now on the hub: start over.
        await discard(r);
        await rm(partial, { force: true });
        continue;
      }
      if (!res.ok) {
        await discard(r);
        throw this.statusError(res, file, false);
      }
      const length = contentLength(res);
      if (res.status === 206) {
        const range = parseContentRange(res.headers.get('content-range'));
        if (range === null || range.start !== have) {
          await discard(r);
          await rm(partial, { force: true });
          if (attempt === 0) continue;
          throw new ExtractError(`${this.repo}: the server answered a resume request for ${file} with the wrong range; run the same command again`);
        }
        await this.save(r, file, target, have, r.linkedSize ?? range.total ?? (length === null ? null : have + length));
      } else {
        // 200: the server ignored Range (or there was nothing to resume), so the body is the whole file.
        await this.save(r, file, target, 0, r.linkedSize ?? length);
      }
      return true;
    }
  }

  /**
   * Streams a response body into `<target>.incomplete` (appending after `offset` bytes, or
   * truncating when offset is 0), never past `total` (or the limit for an unannounced size),
   * checks the result and renames it to `target`.
   */
  async save(r: HubResponse, file: string, target: string, offset: number, total: number | null): Promise<void> {
    const partial = `${target}.incomplete`;
    const { res, url } = r;
    const isSafetensors = file.endsWith('.safetensors');
    const fh = await open(partial, offset === 0 ? 'w+' : 'a+');
    let done = offset;
    const interrupted = (why: string): ExtractError =>
      new ExtractError(
        `${this.repo}: download interrupted: ${file} from ${url} stopped after ${done} of ${total ?? 'unknown'} bytes (${why}); the part is kept in ${partial}: run the same command again to resume`,
      );
    const tooLong = async (limit: number, what: string): Promise<ExtractError> => {
      await rm(partial, { force: true });
      return new ExtractError(
        `${this.repo}: ${file} from ${url} is longer than ${what} (${limit} bytes); the partial file was removed: run the same command again, and if this persists the server or a proxy on the way is broken`,
      );
    };
    let probe: SafetensorsSizeProbe | null = null;
    try {
      if (total === null && isSafetensors) {
        probe = new SafetensorsSizeProbe(`${file} from ${url}`);
        await probe.feedFile(fh, offset);
      }
      this.onProgress?.(file, done, total);
      if (res.body === null) throw interrupted('empty response');
      const reader = res.body.getReader();
      try {
        for (;;) {
          let chunk: Awaited<ReturnType<typeof reader.read>>;
          const timer = this.arm(r.abort);
          try {
            chunk = await reader.read();
          } catch (err) {
            const why = r.abort.signal.reason;
            if (why instanceof HttpExpired && why.kind === 'idle') throw interrupted(`no data for ${this.limits.idleText}`);
            if (why instanceof HttpExpired) throw interrupted(`the download deadline of ${this.limits.deadlineText} passed`);
            throw interrupted(describeCause(err));
          } finally {
            clearTimeout(timer);
          }
          if (chunk.done) break;
          const bytes = chunk.value;
          if (probe !== null) probe.feed(bytes);
          const limit = total ?? probe?.size ?? (isSafetensors ? null : MAX_UNANNOUNCED_BYTES);
          if (limit !== null && done + bytes.length > limit) {
            throw await tooLong(
              limit,
              total !== null ? 'announced' : probe?.size != null ? 'its safetensors header says' : 'allowed for a file whose size the server does not announce',
            );
          }
          try {
            await fh.write(bytes);
          } catch (err) {
            throw new ExtractError(`${partial}: cannot write the download: ${(err as Error).message}; free some disk space or choose another cache folder (HF_HUB_CACHE)`);
          }
          done += bytes.length;
          this.onProgress?.(file, done, total ?? probe?.size ?? null);
        }
      } finally {
        reader.releaseLock();
      }
    } catch (err) {
      r.abort.abort();
      await res.body?.cancel().catch(() => undefined);
      throw err;
    } finally {
      await fh.close().catch(() => undefined);
    }
    const expected = total ?? probe?.size ?? null;
    if (expected !== null && done < expected) throw interrupted('connection closed early');
    await this.verify(r, file, partial, done);
    await rename(partial, target);
  }

  /** Checks a finished download before it enters the cache; a bad one is removed. */
  private async verify(r: HubResponse, file: string, partial: string, size: number): Promise<void> {
    const bad = async (why: string): Promise<ExtractError> => {
      await rm(partial, { force: true });
      return new ExtractError(
        `${this.repo}: ${file} from ${r.url} is corrupt (${why}); it was removed and nothing was cached: run the same command again, and if this persists the server or a proxy on the way is broken`,
      );
    };
    if (r.linkedSize !== null && size !== r.linkedSize) throw await bad(`${size} bytes, the hub says ${r.linkedSize}`);
    if (r.sha256 !== null) {
      const got = await sha256File(partial);
      if (got !== r.sha256) throw await bad(`sha256 ${got}, the hub says ${r.sha256}`);
    } else if (r.gitSha1 !== null) {
      const got = await gitBlobSha1(partial, size);
      if (got !== r.gitSha1) throw await bad(`git blob id ${got}, the hub says ${r.gitSha1}`);
    }
    if (file.endsWith('.safetensors')) {
      try {
        await readSafetensorsIndex(partial);
      } catch (err) {
        throw await bad(`not a valid safetensors file: ${(err as Error).message.slice(partial.length + 2)}`);
      }
    } else if (file.endsWith('.json')) {
      try {
        JSON.parse(await readFile(partial, 'utf8'));
      } catch (err) {
        throw await bad(`not valid JSON: ${(err as Error).message}`);
      }
    }
  }
}
