/**
 * A fake Hugging Face hub on 127.0.0.1 for the hub client's tests: resolve URLs, Range, commit and
 * integrity headers like the real one, redirects to a second-origin "CDN", dropped connections,
 * and a hook for hostile answers.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import type { HubOptions } from '../../src/extract/hub.js';
import { tempDir, writeTinyModel } from './st-helpers.js';

export const COMMIT = '0123456789abcdef0123456789abcdef01234567';
export const OTHER_COMMIT = 'fedcba9876543210fedcba9876543210fedcba98';

/** A repo the fake hub serves. */
export interface Repo {
  /** The folder whose files are served. */
  dir: string;
  /** x-repo-commit header value; null sends none. */
  commit?: string | null;
  /** Requires `Authorization: Bearer secret`, else 401. */
  private?: boolean;
}

export interface Logged {
  repo: string;
  revision: string;
  file: string;
  range: string | undefined;
  auth: string | undefined;
}

export interface FakeHub {
  endpoint: string;
  log: Logged[];
  /** Requests that reached the "CDN" (a second server large files are redirected to). */
  cdnLog: Logged[];
  /** Cut the connection after this many body bytes of `file`, `times` times. */
  drop: { file: string; bytes: number; times: number } | null;
  /** Answer Range requests with the whole file (200), as some proxies do. */
  ignoreRange: boolean;
  /**
   * Answer like today's hub: config.json with a relative 307 to a cache URL that carries no
   * x-repo-commit, every other file with a 302 to the CDN's origin.
   */
  redirect: boolean;
  /**
   * Integrity headers as the hub sends them: ETag = git blob sha1 for files kept in git, and for
   * LFS files (*.safetensors) ETag = X-Linked-Etag = sha256 and X-Linked-Size (default true).
   */
  integrity: boolean;
  /** Takes over the answer for a file (hostile servers); return true when it did. */
  override: ((ctx: { file: string; req: IncomingMessage; res: ServerResponse; body: Buffer; headers: Record<string, string> }) => boolean) | null;
  close(): Promise<void>;
}

/** The integrity headers the hub sends for a file (see {@link FakeHub.integrity}). */
export function integrityHeaders(file: string, body: Buffer): Record<string, string> {
  if (file.endsWith('.safetensors')) {
    const sha = createHash('sha256').update(body).digest('hex');
    return { etag: `"${sha}"`, 'x-linked-etag': `"${sha}"`, 'x-linked-size': String(body.length) };
  }
  const sha1 = createHash('sha1').update(`blob ${body.length}\0`).update(body).digest('hex');
  return { etag: `"${sha1}"` };
}

/**
 * A minimal hub on 127.0.0.1: /{repo}/resolve/{revision}/{file}, Range, x-repo-commit, 401/404
 * like the real one, optional redirects to a second-origin "CDN".
 */
export async function startHub(repos: Record<string, Repo>): Promise<FakeHub> {
  const hub: FakeHub = {
    endpoint: '', log: [], cdnLog: [], drop: null, ignoreRange: false, redirect: false, integrity: true, override: null, close: async () => undefined,
  };
  let cdnEndpoint = '';

  const serve = (req: IncomingMessage, res: ServerResponse, dir: string, file: string, commit: string | null, fromHub = true): void => {
    const path = join(dir, file);
    if (file.includes('..') || !existsSync(path)) {
      res.writeHead(404, { 'x-error-code': 'EntryNotFound' }).end('Entry not found');
      return;
    }
    const body = readFileSync(path);
    const headers: Record<string, string> = { 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    if (commit !== null) headers['x-repo-commit'] = commit;
    if (hub.integrity && fromHub) Object.assign(headers, integrityHeaders(file, body));
    if (hub.override?.({ file, req, res, body, headers })) return;
    let status = 200;
    let part = body;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range !== null && !hub.ignoreRange) {
      const start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { ...headers, 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      status = 206;
      part = body.subarray(start);
      headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    }
    headers['content-length'] = String(part.length);
    res.writeHead(status, headers);
    const drop = hub.drop;
    if (drop !== null && drop.file === file && drop.times > 0 && drop.bytes < part.length) {
      drop.times--;
      // Cut only after the client had time to take the bytes: a fetch body stream that errors
      // drops the chunks it has queued but not yet handed out, which would make the part size random.
      res.write(part.subarray(0, drop.bytes), () => setTimeout(() => req.socket.destroy(), 150));
      return;
    }
    res.end(part);
  };

  /** /cached/{repo}/{file} on the hub and /blob/{repo}/{file} on the CDN: plain files, no checks. */
  const serveRedirected = (req: IncomingMessage, res: ServerResponse, log: Logged[]): void => {
    const m = /^\/(?:cached|blob)\/(.+?)\/([^/]+)$/.exec(req.url ?? '');
    const repo = m === null ? undefined : repos[decodeURIComponent(m[1])];
    if (m === null || repo === undefined) {
      res.writeHead(404).end();
      return;
    }
    const file = decodeURIComponent(m[2]);
    log.push({ repo: m[1], revision: '', file, range: req.headers.range, auth: req.headers.authorization });
    serve(req, res, repo.dir, file, null, log === hub.log);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.url?.startsWith('/cached/')) {
      serveRedirected(req, res, hub.log);
      return;
    }
    const m = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? '');
    if (m === null) {
      res.writeHead(400).end();
      return;
    }
    const [repoId, revision, file] = [m[1], decodeURIComponent(m[2]), decodeURIComponent(m[3])];
    hub.log.push({ repo: repoId, revision, file, range: req.headers.range, auth: req.headers.authorization });
    const repo = repos[repoId];
    if (repo === undefined) {
      res.writeHead(404, { 'x-error-code': 'RepoNotFound' }).end('Repository not found');
      return;
    }
    if (repo.private && req.headers.authorization !== 'Bearer secret') {
      res.writeHead(401, { 'x-error-code': 'RepoNotFound' }).end('Invalid credentials');
      return;
    }
    const commit = repo.commit === undefined ? COMMIT : repo.commit;
    if (revision !== 'main' && revision !== commit) {
      res.writeHead(404, { 'x-error-code': 'RevisionNotFound' }).end('Revision not found');
      return;
    }
    if (hub.redirect && existsSync(join(repo.dir, file))) {
      const location = file === 'config.json' ? `/cached/${repoId}/${file}` : `${cdnEndpoint}/blob/${repoId}/${file}`;
      // The hub's own hop carries the LFS headers; the CDN's ETag means something else.
      const lfs = hub.integrity && file.endsWith('.safetensors') ? integrityHeaders(file, readFileSync(join(repo.dir, file))) : {};
      res.writeHead(file === 'config.json' ? 307 : 302, { location, ...lfs, ...(commit === null ? {} : { 'x-repo-commit': commit }) }).end();
      return;
    }
    serve(req, res, repo.dir, file, commit);
  };

  const servers = [createServer(handle), createServer((req, res) => serveRedirected(req, res, hub.cdnLog))];
  const endpoints: string[] = [];
  for (const server of servers) {
    server.requestTimeout = 10_000;
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    endpoints.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
  [hub.endpoint, cdnEndpoint] = endpoints;
  hub.close = async () => {
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((ok) => {
            server.close(() => ok());
            server.closeAllConnections();
          }),
      ),
    );
  };
  return hub;
}

/** Fails instead of hanging when a request never completes. */
export async function bounded<T>(p: Promise<T>, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A temp folder with a served model and a cache; the server is closed and the folder removed afterwards. */
export async function withHub(
  setup: (root: string) => Record<string, Repo>,
  body: (ctx: { hub: FakeHub; root: string; cacheDir: string; opts: HubOptions }) => Promise<void>,
  ms = 15_000,
): Promise<void> {
  const tmp = tempDir('hub');
  const hub = await startHub(setup(tmp.dir));
  const cacheDir = tmp.path('cache');
  try {
    await bounded(body({ hub, root: tmp.dir, cacheDir, opts: { endpoint: `${hub.endpoint}/`, cacheDir } }), ms);
  } finally {
    await hub.close();
    tmp.cleanup();
  }
}

export const tinyBert = (root: string, extra: Parameters<typeof writeTinyModel>[1] = { modelType: 'bert' }): Record<string, Repo> => {
  writeTinyModel(join(root, 'served'), extra);
  return { 'test-org/tiny-bert': { dir: join(root, 'served') } };
};

export function filesIn(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

