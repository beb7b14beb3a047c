/**
 * Model id -> local folder: a Hugging Face hub client just big enough for BERT/RoBERTa encoders.
 *
 * Files land in the hub cache layout that Python's huggingface_hub uses
 * (`models--org--name/refs/<revision>`, `snapshots/<commit>/<file>`, `.no_exist/<commit>/<file>`),
 * so a model downloaded by either tool is found by the other. We store files directly in the
 * snapshot folder instead of content-addressed blobs + symlinks; snapshots Python made (symlinks
 * into blobs/) are read through the links.
 *
 * Cache policy, kept deliberately simple:
 * - offline: never touch the network; the snapshot that refs/<revision> names must be complete.
 * - revision is a full 40-hex commit and its snapshot is complete: used without network (a commit
 *   never changes).
 * - otherwise: one GET of config.json tells the commit the revision points at now (x-repo-commit);
 *   files already in that snapshot are not fetched again, so an up-to-date cache costs one small
 *   request. If the hub cannot be reached at all, a complete cached snapshot of the revision is
 *   used instead (as Python does); HTTP errors (401, 404, ...) are never papered over.
 *
 * No locking: two processes downloading the same file at once may corrupt its `.incomplete` file;
 * run one download per model at a time.
 */
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { shardFiles, WEIGHTS_FILE, WEIGHTS_INDEX_FILE } from './checkpoint.js';
import { ExtractError } from './types.js';

/** Where and how to fetch a model. Every field has a default from the environment. */
export interface HubOptions {
  /** Hub base URL; default `process.env.HF_ENDPOINT ?? 'https://huggingface.co'` (a trailing slash is fine). */
  endpoint?: string;
  /** Branch, tag or commit hash; default 'main'. */
  revision?: string;
  /**
   * The hub cache folder (the one holding `models--*`); default `process.env.HF_HUB_CACHE`, else
   * `$HF_HOME/hub`, else `~/.cache/huggingface/hub`.
   */
  cacheDir?: string;
  /** Never use the network (only the cache); default `process.env.HF_HUB_OFFLINE === '1'`. */
  offline?: boolean;
  /** Access token for private or gated models, sent as `Authorization: Bearer`; default `process.env.HF_TOKEN`. */
  token?: string;
  /**
   * Called as each file downloads (bytes, counting a resumed part as done); `bytesTotal` is null
   * when the server does not say. Not called for files already in the cache.
   */
  onProgress?: (file: string, bytesDone: number, bytesTotal: number | null) => void;
}

/** Where a model was found. */
export interface ResolvedModel {
  /** Absolute path of the folder holding config.json, the weights and the tokenizer files. */
  folder: string;
  /** The hub id (`org/name` or `name`), or null for a local folder. */
  repo: string | null;
  /** The revision asked for, or null for a local folder. */
  revision: string | null;
  /** The commit the revision resolved to (the revision itself when the hub did not say), or null for a local folder. */
  commit: string | null;
  /** 'local': a folder given by path; 'cache': nothing downloaded this time; 'download': at least one file fetched. */
  source: 'local' | 'cache' | 'download';
}

/** Optional tokenizer files; at least one of {@link TOKENIZER_VOCABS} must exist. */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt', 'vocab.json', 'merges.txt'];
const TOKENIZER_VOCABS = ['tokenizer.json', 'vocab.txt', 'vocab.json'];

const COMMIT_HASH = /^[0-9a-f]{40}$/;

/** A failure to reach the server at all (as opposed to an HTTP error status). */
class HubNetworkError extends ExtractError {}

/**
 * Turns a model folder path or a hub model id into a local folder, downloading into the cache
 * when needed (see the module comment for the cache policy).
 *
 * An existing directory is used as is. Anything else must be a hub id: `name` or `org/name`, each
 * part of letters, digits, `_`, `.`, `-` (not starting or ending with `.`/`-`, no `--` or `..`).
 * From the hub it fetches config.json (required), the tokenizer files that exist (tokenizer.json,
 * tokenizer_config.json, special_tokens_map.json, vocab.txt, vocab.json, merges.txt; at least one
 * of tokenizer.json / vocab.txt / vocab.json is required), then model.safetensors or, when that is
 * absent, model.safetensors.index.json and its shards. Downloads resume: a file is written to
 * `<file>.incomplete` and renamed when whole; a later call continues an `.incomplete` file with an
 * HTTP Range request.
 *
 * @param idOrFolder - a folder path, or a model id such as `bert-base-uncased` or `FacebookAI/roberta-base`.
 * @param opts - endpoint, revision, cache, offline mode, token, progress callback.
 * @throws ExtractError when the argument is neither a folder nor an id; in offline mode when the
 *   cache lacks a complete snapshot; for unknown ids or revisions (404), denied access (401/403,
 *   naming HF_TOKEN), unreachable hosts (naming the URL), repos without safetensors weights or
 *   without a tokenizer, and interrupted downloads (which the next call resumes).
 */
export async function resolveModel(idOrFolder: string, opts: HubOptions = {}): Promise<ResolvedModel> {
  const info = await stat(idOrFolder).catch(() => null);
  if (info !== null) {
    if (info.isDirectory()) return { folder: resolve(idOrFolder), repo: null, revision: null, commit: null, source: 'local' };
    throw new ExtractError(`${idOrFolder}: is a file, not a model folder or model id (give the folder holding config.json and ${WEIGHTS_FILE})`);
  }
  const repo = idOrFolder;
  if (!isRepoId(repo)) {
    throw new ExtractError(
      `${idOrFolder}: no such folder and not a model id (expected a model folder, or a Hugging Face id such as bert-base-uncased or FacebookAI/roberta-base)`,
    );
  }
  const revision = opts.revision ?? 'main';
  if (!isRevision(revision)) throw new ExtractError(`revision '${revision}' is not a valid branch, tag or commit name`);
  // An empty variable counts as unset, as in huggingface_hub.
  const env = (name: string): string | undefined => process.env[name] || undefined;
  const endpoint = (opts.endpoint ?? env('HF_ENDPOINT') ?? 'https://huggingface.co').replace(/\/+$/, '');
  const cacheDir = resolve(
    opts.cacheDir ?? env('HF_HUB_CACHE') ?? join(env('HF_HOME') ?? join(homedir(), '.cache', 'huggingface'), 'hub'),
  );
  const offline = opts.offline ?? process.env.HF_HUB_OFFLINE === '1';
  const token = opts.token ?? env('HF_TOKEN');
  const repoDir = join(cacheDir, `models--${repo.split('/').join('--')}`);

  const fromCache = async (): Promise<ResolvedModel | { missing: string[] } | null> => {
    const commit = await cachedCommit(repoDir, revision);
    if (commit === null) return null;
    const folder = join(repoDir, 'snapshots', commit);
    const missing = await missingFiles(folder);
    return missing.length === 0 ? { folder, repo, revision, commit, source: 'cache' } : { missing };
  };

  if (offline) {
    const hit = await fromCache();
    if (hit !== null && 'folder' in hit) return hit;
    const partly = hit === null ? '' : ` (only partly: missing ${hit.missing.join(', ')})`;
    throw new ExtractError(
      `${repo} is not in the cache at ${cacheDir}${partly} and --offline forbids downloading; run once without --offline (and without HF_HUB_OFFLINE=1) to download it`,
    );
  }

  if (COMMIT_HASH.test(revision)) {
    const folder = join(repoDir, 'snapshots', revision);
    if ((await missingFiles(folder)).length === 0) return { folder, repo, revision, commit: revision, source: 'cache' };
  }

  const hub = new Hub(endpoint, repo, revision, token, opts.onProgress);
  let res: Response;
  let header: string | null;
  try {
    ({ res, commit: header } = await hub.get('config.json'));
  } catch (err) {
    if (err instanceof HubNetworkError) {
      const hit = await fromCache();
      if (hit !== null && 'folder' in hit) return hit;
    }
    throw err;
  }
  if (!res.ok) {
    await discard(res);
    throw hub.statusError(res, 'config.json', true);
  }
  // Without the header the revision name stands in, made safe as one folder name.
  const commit = header !== null && /^[\w.-]+$/.test(header) && header !== '.' && header !== '..' ? header : revision.split('/').join('--');
  const snapshot = join(repoDir, 'snapshots', commit);
  const noExist = join(repoDir, '.no_exist', commit);
  let downloaded = false;

  await mkdir(snapshot, { recursive: true });
  if (await isFile(join(snapshot, 'config.json'))) {
    await discard(res);
  } else {
    await hub.save(res, 'config.json', join(snapshot, 'config.json'), 0, null);
    downloaded = true;
  }
  if (commit !== revision) await writeRef(repoDir, revision, commit);

  /** Makes `file` present in the snapshot; false when the hub has no such file. */
  const ensure = async (file: string): Promise<boolean> => {
    const target = join(snapshot, file);
    if (await isFile(target)) return true;
    if (await isFile(join(noExist, file))) return false;
    const got = await hub.download(file, target);
    if (!got) {
      // Python's marker for "asked, the hub has no such file", so neither tool asks again.
      await mkdir(noExist, { recursive: true });
      await writeFile(join(noExist, file), '');
      return false;
    }
    downloaded = true;
    return true;
  };

  const present = new Set<string>();
  for (const f of TOKENIZER_FILES) if (await ensure(f)) present.add(f);
  if (!TOKENIZER_VOCABS.some((f) => present.has(f))) {
    throw new ExtractError(
      `${repo}: revision ${revision} has no tokenizer (none of ${TOKENIZER_VOCABS.join(', ')}) on ${endpoint}; isotropy needs the model's own tokenizer files`,
    );
  }

  const haveIndexLocally = !(await isFile(join(snapshot, WEIGHTS_FILE))) && (await isFile(join(snapshot, WEIGHTS_INDEX_FILE)));
  if (haveIndexLocally || !(await ensure(WEIGHTS_FILE))) {
    if (!(await ensure(WEIGHTS_INDEX_FILE))) {
      throw new ExtractError(
        `${repo}: revision ${revision} has no safetensors weights (${WEIGHTS_FILE} or ${WEIGHTS_INDEX_FILE}) on ${endpoint}; isotropy reads only safetensors (it never unpickles pytorch_model.bin): ` +
          `try a revision that has them (the hub's safetensors conversion bot often opens a PR, e.g. --revision refs/pr/1), or convert locally with ` +
          `python -c "from transformers import AutoModel; AutoModel.from_pretrained('${repo}').save_pretrained('<out>', safe_serialization=True)" and pass <out>`,
      );
    }
    for (const shard of await shardFiles(join(snapshot, WEIGHTS_INDEX_FILE))) {
      if (!(await ensure(shard))) {
        throw new ExtractError(`${repo}: ${WEIGHTS_INDEX_FILE} lists ${shard}, but ${endpoint} has no such file at revision ${revision}; the repo is broken`);
      }
    }
  }
  return { folder: snapshot, repo, revision, commit, source: downloaded ? 'download' : 'cache' };
}

function isRepoId(s: string): boolean {
  const parts = s.split('/');
  if (parts.length > 2 || s.length > 96 * 2 + 1) return false;
  return parts.every((p) => /^[\w.-]+$/.test(p) && !/^[.-]|[.-]$/.test(p) && !p.includes('--') && !p.includes('..'));
}

function isRevision(s: string): boolean {
  // Branch names may hold slashes (refs/pr/1); each part must stay inside refs/ when used as a path.
  return s.length > 0 && s.split('/').every((p) => p !== '' && p !== '.' && p !== '..' && !/[\\\0-\x1f]/.test(p));
}

async function isFile(path: string): Promise<boolean> {
  // stat follows symlinks: Python's snapshot links into blobs/ count, dangling ones do not.
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

async function cachedCommit(repoDir: string, revision: string): Promise<string | null> {
  const ref = await readFile(join(repoDir, 'refs', ...revision.split('/')), 'utf8').catch(() => null);
  const commit = ref?.trim();
  if (commit !== undefined && /^[\w.-]+$/.test(commit) && commit !== '.' && commit !== '..') return commit;
  // A commit hash, or a revision the hub gave no commit for, is its own snapshot name.
  const direct = revision.split('/').join('--');
  return (await stat(join(repoDir, 'snapshots', direct)).catch(() => null))?.isDirectory() ? direct : null;
}

/** What a snapshot lacks to be usable (config, weights incl. every shard, a tokenizer vocabulary). */
async function missingFiles(folder: string): Promise<string[]> {
  const missing: string[] = [];
  if (!(await isFile(join(folder, 'config.json')))) missing.push('config.json');
  if (!(await isFile(join(folder, WEIGHTS_FILE)))) {
    const index = join(folder, WEIGHTS_INDEX_FILE);
    if (!(await isFile(index))) missing.push(WEIGHTS_FILE);
    else {
      const shards = await shardFiles(index).catch(() => null);
      if (shards === null) missing.push(WEIGHTS_INDEX_FILE);
      else for (const s of shards) if (!(await isFile(join(folder, s)))) missing.push(s);
    }
  }
  let vocab = false;
  for (const f of TOKENIZER_VOCABS) if (await isFile(join(folder, f))) vocab = true;
  if (!vocab) missing.push(TOKENIZER_VOCABS.join(' or '));
  return missing;
}

async function writeRef(repoDir: string, revision: string, commit: string): Promise<void> {
  const ref = join(repoDir, 'refs', ...revision.split('/'));
  await mkdir(dirname(ref), { recursive: true });
  const tmp = `${ref}.tmp-${process.pid}`;
  await writeFile(tmp, commit);
  await rename(tmp, ref);
}

/** Lets the connection be reused or closed without reading a body we do not want. */
async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}

function describeCause(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  const c = cause as { code?: string; message?: string } | undefined;
  if (c?.code !== undefined) return c.code;
  if (c?.message !== undefined) return c.message;
  return err instanceof Error ? err.message : String(err);
}

/** Requests against one repo at one revision. */
class Hub {
  constructor(
    readonly endpoint: string,
    readonly repo: string,
    readonly revision: string,
    readonly token: string | undefined,
    readonly onProgress: HubOptions['onProgress'],
  ) {}

  url(file: string): string {
    const path = file.split('/').map(encodeURIComponent).join('/');
    return `${this.endpoint}/${this.repo}/resolve/${encodeURIComponent(this.revision)}/${path}`;
  }

  /**
   * GETs a file, following redirects by hand: the hub answers `resolve` with redirects (to a CDN
   * for large files, or within the hub), and the commit header may sit on any hop.
   * The token goes only to the endpoint's own origin, never to a CDN.
   */
  async get(file: string, range?: number): Promise<{ res: Response; commit: string | null }> {
    let url = this.url(file);
    const origin = new URL(this.endpoint).origin;
    let commit: string | null = null;
    for (let hop = 0; hop <= 10; hop++) {
      // identity: Content-Length and Range must count the bytes we store, not compressed ones.
      const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'isotropy-toolkit' };
      if (range !== undefined) headers.range = `bytes=${range}-`;
      if (this.token !== undefined && this.token !== '' && new URL(url).origin === origin) headers.authorization = `Bearer ${this.token}`;
      let res: Response;
      try {
        res = await fetch(url, { headers, redirect: 'manual' });
      } catch (err) {
        throw new HubNetworkError(
          `cannot reach ${url} (${describeCause(err)}): check the network connection, set HF_ENDPOINT to a reachable mirror, or use --offline with a model already in the cache`,
        );
      }
      commit ??= res.headers.get('x-repo-commit');
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location !== null) {
        await discard(res);
        url = new URL(location, url).toString();
        continue;
      }
      return { res, commit };
    }
    throw new ExtractError(`${this.repo}: too many redirects for ${this.url(file)}; check HF_ENDPOINT`);
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
      return new ExtractError(`${this.repo}: revision '${this.revision}' not found on ${this.endpoint}; check --revision`);
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
    return new ExtractError(`${this.repo}: HTTP ${res.status} ${res.statusText} from ${this.url(file)}${retry}`);
  }

  /**
   * Downloads `file` to `target`, resuming `<target>.incomplete` when it exists.
   * @returns false when the hub answers 404 for this file.
   */
  async download(file: string, target: string): Promise<boolean> {
    const partial = `${target}.incomplete`;
    await mkdir(dirname(target), { recursive: true });
    for (let attempt = 0; ; attempt++) {
      const have = (await stat(partial).catch(() => null))?.size ?? 0;
      const { res } = await this.get(file, have > 0 ? have : undefined);
      if (res.status === 404) {
        await discard(res);
        return false;
      }
      if (have > 0 && res.status === 416 && attempt === 0) {
        // The partial file is as long as (or longer than) the file now on the hub: start over.
        await discard(res);
        await rm(partial, { force: true });
        continue;
      }
      if (!res.ok) {
        await discard(res);
        throw this.statusError(res, file, false);
      }
      const length = contentLength(res);
      if (res.status === 206) {
        const range = parseContentRange(res.headers.get('content-range'));
        if (range === null || range.start !== have) {
          await discard(res);
          await rm(partial, { force: true });
          if (attempt === 0) continue;
          throw new ExtractError(`${this.repo}: the server answered a resume request for ${file} with the wrong range; run the same command again`);
        }
        await this.save(res, file, target, have, range.total ?? (length === null ? null : have + length));
      } else {
        // 200: the server ignored Range (or there was nothing to resume), so the body is the whole file.
        await this.save(res, file, target, 0, length);
      }
      return true;
    }
  }

  /**
   * Streams a response body into `<target>.incomplete` (appending after `offset` bytes, or
   * truncating when offset is 0) and renames it to `target` once whole.
   */
  async save(res: Response, file: string, target: string, offset: number, total: number | null): Promise<void> {
    const partial = `${target}.incomplete`;
    const url = this.url(file);
    if (total === null && offset === 0) total = contentLength(res);
    const fh = await open(partial, offset === 0 ? 'w' : 'a');
    let done = offset;
    const interrupted = (why: string): ExtractError =>
      new ExtractError(
        `${this.repo}: download interrupted: ${file} from ${url} stopped after ${done} of ${total ?? 'unknown'} bytes (${why}); the part is kept in ${partial}: run the same command again to resume`,
      );
    try {
      this.onProgress?.(file, done, total);
      if (res.body === null) throw interrupted('empty response');
      const reader = res.body.getReader();
      try {
        for (;;) {
          let chunk: Awaited<ReturnType<typeof reader.read>>;
          try {
            chunk = await reader.read();
          } catch (err) {
            throw interrupted(describeCause(err));
          }
          if (chunk.done) break;
          try {
            await fh.write(chunk.value);
          } catch (err) {
            throw new ExtractError(`${partial}: cannot write the download: ${(err as Error).message}; free some disk space or choose another cache folder (HF_HUB_CACHE)`);
          }
          done += chunk.value.length;
          this.onProgress?.(file, done, total);
        }
      } finally {
        reader.releaseLock();
      }
    } catch (err) {
      await res.body?.cancel().catch(() => undefined);
      throw err;
    } finally {
      await fh.close().catch(() => undefined);
    }
    if (total !== null && done < total) throw interrupted('connection closed early');
    if (total !== null && done > total) {
      await rm(partial, { force: true });
      throw new ExtractError(`${this.repo}: ${file} from ${url} is longer (${done} bytes) than announced (${total}); the partial file was removed, run the same command again`);
    }
    await rename(partial, target);
  }
}

function contentLength(res: Response): number | null {
  // A compressed body's length says nothing about the bytes we get after decoding.
  const enc = res.headers.get('content-encoding');
  if (enc !== null && enc !== 'identity') return null;
  const v = res.headers.get('content-length');
  if (v === null || !/^\d+$/.test(v)) return null;
  return Number(v);
}

/** `bytes START-END/TOTAL` (TOTAL may be `*`). */
function parseContentRange(v: string | null): { start: number; total: number | null } | null {
  const m = v === null ? null : /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v.trim());
  if (m === null) return null;
  return { start: Number(m[1]), total: m[3] === '*' ? null : Number(m[3]) };
}
