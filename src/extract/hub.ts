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
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { quote } from '../io/errors.js';
import { hubEndpoint } from '../io/hub-url.js';
import { shardFiles, WEIGHTS_FILE, WEIGHTS_INDEX_FILE } from './checkpoint.js';
import { removeOnExit } from '../io/exit-cleanup.js';
import { discard, HubClient, HubNetworkError, type HubLimits } from './hub-client.js';
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
  /**
   * Milliseconds without an answer or a byte before a request fails (a stuck server or network);
   * default `HF_HUB_DOWNLOAD_TIMEOUT` (seconds, as in Python's client), else 10 s. An interrupted
   * file is kept and resumed by the next call.
   */
  idleTimeoutMs?: number;
  /**
   * Milliseconds the whole call may take, waiting for another process's download of the same file
   * included; default `ISOTROPY_DOWNLOAD_DEADLINE` (seconds), else 3600 s; 0 means no deadline. Files
   * finished by then stay in the cache and a partial one is resumed by the next call.
   */
  deadlineMs?: number;
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

const DEFAULT_IDLE_S = 10;
const DEFAULT_DEADLINE_S = 3600;

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
 *   without a tokenizer, an HF_ENDPOINT that is not an http(s) URL, interrupted downloads (a
 *   dropped connection, no byte for the idle timeout, the deadline passed: the next call resumes),
 *   a file longer than announced or failing its checks (size, sha256 / git blob id, JSON,
 *   safetensors layout: removed, nothing cached), and another process holding a file's lock past
 *   the deadline.
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
  if (!isRevision(revision)) throw new ExtractError(`revision ${quote(revision)} is not a valid branch, tag or commit name`);
  // An empty variable counts as unset, as in huggingface_hub.
  const env = (name: string): string | undefined => process.env[name] || undefined;
  const started = Date.now();
  const limits = hubLimits(opts, env, started);
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

  const endpoint = parseEndpoint(opts.endpoint, env('HF_ENDPOINT'));
  const hub = new HubClient(endpoint, repo, revision, token, limits, opts.onProgress);
  let first;
  try {
    first = await hub.get('config.json');
  } catch (err) {
    if (err instanceof HubNetworkError) {
      const hit = await fromCache();
      if (hit !== null && 'folder' in hit) return hit;
    }
    throw err;
  }
  if (!first.res.ok) {
    await discard(first);
    throw hub.statusError(first.res, 'config.json', true);
  }
  const header = first.commit;
  // Without the header the revision name stands in, made safe as one folder name.
  const commit = header !== null && /^[\w.-]{1,200}$/.test(header) && header !== '.' && header !== '..' ? header : revision.split('/').join('--');
  const snapshot = join(repoDir, 'snapshots', commit);
  const noExist = join(repoDir, '.no_exist', commit);
  let downloaded = false;

  await mkdir(snapshot, { recursive: true });
  if (await isFile(join(snapshot, 'config.json'))) {
    await discard(first);
  } else {
    await hub.fetchFile('config.json', join(snapshot, 'config.json'), first);
    downloaded = true;
  }
  if (commit !== revision) await writeRef(repoDir, revision, commit);

  /** Makes `file` present in the snapshot; false when the hub has no such file. */
  const ensure = async (file: string): Promise<boolean> => {
    const target = join(snapshot, file);
    if (await isFile(target)) return true;
    if (await isFile(join(noExist, file))) return false;
    const got = await hub.fetchFile(file, target);
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
        throw new ExtractError(`${repo}: ${WEIGHTS_INDEX_FILE} lists ${quote(shard)}, but ${endpoint} has no such file at revision ${revision}; the repo is broken`);
      }
    }
  }
  return { folder: snapshot, repo, revision, commit, source: downloaded ? 'download' : 'cache' };
}

/**
 * The hub's base URL from the option or HF_ENDPOINT (default https://huggingface.co), without a
 * trailing slash.
 * @throws ExtractError naming where the value came from when it is not an http(s) URL
 */
function parseEndpoint(option: string | undefined, variable: string | undefined): string {
  const got = hubEndpoint(option, variable);
  if ('error' in got) throw new ExtractError(got.error);
  return got.url;
}

/** Seconds from an environment variable (a non-negative number), or undefined when unset. */
function envSeconds(env: (name: string) => string | undefined, name: string): number | undefined {
  const v = env(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new ExtractError(`${name} is ${quote(v)}; expected a number of seconds (0 or more)`);
  }
  return n;
}

function hubLimits(opts: HubOptions, env: (name: string) => string | undefined, started: number): HubLimits {
  const check = (v: number | undefined, name: string): number | undefined => {
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && !Number.isNaN(v))) {
      throw new ExtractError(`${name} is ${quote(v)}; expected a number of milliseconds (0 or more)`);
    }
    return v;
  };
  const idleOpt = check(opts.idleTimeoutMs, 'idleTimeoutMs');
  const deadlineOpt = check(opts.deadlineMs, 'deadlineMs');
  const idleEnv = idleOpt === undefined ? envSeconds(env, 'HF_HUB_DOWNLOAD_TIMEOUT') : undefined;
  const deadlineEnv = deadlineOpt === undefined ? envSeconds(env, 'ISOTROPY_DOWNLOAD_DEADLINE') : undefined;
  // 0 disables the idle timeout only in the sense of "as long as the deadline allows".
  const idleRaw = idleOpt ?? (idleEnv === undefined ? DEFAULT_IDLE_S * 1000 : idleEnv * 1000);
  const idleMs = idleRaw === 0 ? Infinity : idleRaw;
  const deadlineMs = deadlineOpt ?? (deadlineEnv === undefined ? DEFAULT_DEADLINE_S * 1000 : deadlineEnv * 1000);
  const secs = (ms: number) => `${Number((ms / 1000).toPrecision(6))} s`;
  return {
    idleMs,
    deadline: deadlineMs === 0 ? Infinity : started + deadlineMs,
    idleText: `${secs(idleMs)} (HF_HUB_DOWNLOAD_TIMEOUT; API: hub.idleTimeoutMs)`,
    deadlineText: `${secs(deadlineMs)} (--download-deadline or ISOTROPY_DOWNLOAD_DEADLINE, in seconds, 0 for none; API: hub.deadlineMs)`,
  };
}

function isRepoId(s: string): boolean {
  const parts = s.split('/');
  if (parts.length > 2 || s.length > 96 * 2 + 1) return false;
  return parts.every((p) => /^[\w.-]+$/.test(p) && !/^[.-]|[.-]$/.test(p) && !p.includes('--') && !p.includes('..'));
}

function isRevision(s: string): boolean {
  // Branch names may hold slashes (refs/pr/1); each part must stay inside refs/ when used as a path.
  return s.length > 0 && s.length <= 256 && s.split('/').every((p) => p !== '' && p !== '.' && p !== '..' && !/[\\\0-\x1f]/.test(p));
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
  await sweepDeadTemps(dirname(ref), basename(ref));
  const tmp = `${ref}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const forget = removeOnExit(tmp);
  try {
    await writeFile(tmp, commit);
    await rename(tmp, ref);
  } finally {
    await rm(tmp, { force: true });
    forget();
  }
}

/** Removes `<name>.tmp-<pid>-*` files in `folder` left by processes that no longer run (a kill -9). */
async function sweepDeadTemps(folder: string, name: string): Promise<void> {
  const prefix = `${name}.tmp-`;
  for (const entry of await readdir(folder).catch(() => [] as string[])) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)/.exec(entry.slice(prefix.length))?.[1]);
    if (!Number.isSafeInteger(pid) || pid === process.pid) continue;
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch (err) {
      alive = (err as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (!alive) await unlink(join(folder, entry)).catch(() => undefined);
  }
}
