/**
 * The Hugging Face hub's URL rules, shared by model downloads (src/extract) and remote dataset
 * inputs (`hf://datasets/ORG/NAME/PATH`): the endpoint (HF_ENDPOINT) and the `resolve` URL of a
 * file in a repo at a revision.
 */
import { quote } from './errors.js';

/** The hub used when neither an option nor HF_ENDPOINT names one. */
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

/**
 * The hub's base URL from an option or the HF_ENDPOINT value (default https://huggingface.co),
 * without a trailing slash; an error message (naming where the value came from) when it is not an
 * http(s) URL without query, fragment or credentials.
 */
export function hubEndpoint(option: string | undefined, variable: string | undefined): { url: string } | { error: string } {
  const value = option ?? variable ?? DEFAULT_HUB_ENDPOINT;
  const source = option !== undefined ? 'the hub endpoint option' : variable !== undefined ? 'HF_ENDPOINT' : 'the default endpoint';
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    return { error: `${source} ${quote(value)} is not an http(s) URL of a hub: set it to an address like ${DEFAULT_HUB_ENDPOINT} (or a mirror's), or unset it` };
  }
  return { url: value.replace(/\/+$/, '') };
}

/**
 * `{endpoint}/{repoPath}/resolve/{revision}/{file}`, each path segment of the file and the
 * revision escaped. `repoPath` is `org/name` for a model, `datasets/org/name` for a dataset.
 */
export function hubFileUrl(endpoint: string, repoPath: string, revision: string, file: string): string {
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${repoPath}/resolve/${encodeURIComponent(revision)}/${path}`;
}

/** A file of a hub repo, as `hf://` names it. */
export interface HfPath {
  /** `datasets/org/name` (or `org/name` for a model repo) */
  repoPath: string;
  /** the revision written in the name (`@rev`), else null */
  revision: string | null;
  /** the file's path inside the repo */
  file: string;
}

/**
 * Parses `hf://datasets/ORG/NAME[@REVISION]/PATH` (huggingface_hub's file-system naming;
 * `hf://ORG/NAME/PATH` is a model repo). Returns null when `name` does not start with `hf://`,
 * or an error message when it does but is malformed.
 */
export function parseHfPath(name: string): HfPath | { error: string } | null {
  if (!name.startsWith('hf://')) return null;
  const rest = name.slice('hf://'.length);
  const parts = rest.split('/');
  const kind = parts[0] === 'datasets' || parts[0] === 'spaces' ? parts.shift()! : null;
  if (parts.length < 3 || parts.some((p) => p === '' || p === '.' || p === '..')) {
    return { error: `${quote(name)} is not a hub file: write hf://datasets/ORG/NAME/PATH/TO/FILE (or hf://datasets/ORG/NAME@REVISION/PATH)` };
  }
  const [org, nameRev, ...file] = parts;
  const at = nameRev.indexOf('@');
  const repoName = at < 0 ? nameRev : nameRev.slice(0, at);
  const revision = at < 0 ? null : decodeURIComponent(nameRev.slice(at + 1));
  const ok = (s: string) => /^[\w.-]+$/.test(s) && !/^[.-]|[.-]$/.test(s) && !s.includes('--') && !s.includes('..');
  if (!ok(org) || !ok(repoName) || revision === '') {
    return { error: `${quote(name)}: ${quote(`${org}/${repoName}`)} is not a hub repo id (letters, digits, _ . -): check the name` };
  }
  return { repoPath: `${kind ? `${kind}/` : ''}${org}/${repoName}`, revision, file: file.join('/') };
}
