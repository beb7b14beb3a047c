/**
 * The output files of `extract`, checked before any work starts: each must be writable where it
 * is, distinct from the others, and none may be one of the inputs: the sentence file or any file
 * of the model (config.json, the weights, the tokenizer files; in a hub cache snapshot, the blobs
 * its links point to).
 */
import { constants } from 'node:fs';
import { access, readdir, realpath, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ExtractError } from './types.js';

/** A file the outputs must not replace, and how to name it in a message. */
export interface ProtectedFile {
  path: string;
  /** e.g. 'the input file' or 'a file of the model in m' */
  what: string;
}

/** Identity of a path: resolved, real (links followed) and inode, whichever are known. */
interface Identity {
  resolved: string;
  real: string | null;
  inode: string | null;
}

async function identify(path: string): Promise<Identity> {
  const resolved = resolve(path);
  const real = await realpath(resolved).catch(() => null);
  const info = real === null ? null : await stat(real).catch(() => null);
  return { resolved, real, inode: info === null ? null : `${info.dev}:${info.ino}` };
}

function same(a: Identity, b: Identity): boolean {
  return a.resolved === b.resolved || (a.real !== null && a.real === b.real) || (a.inode !== null && a.inode === b.inode);
}

/**
 * The files of a model folder (and of its sub-folders, a few levels down), which outputs must
 * never replace. Links are listed as they are; {@link checkOutputs} follows them.
 */
export async function modelFiles(folder: string, depth = 3): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const path = join(folder, e.name);
    if (e.isDirectory()) {
      if (depth > 0) out.push(...(await modelFiles(path, depth - 1)));
    } else {
      out.push(path);
    }
  }
  return out;
}

/**
 * Checks output paths before the work: no two the same, none a protected file, each one's folder
 * present and writable, none an existing folder.
 * @throws ExtractError naming the output and the fix
 */
export async function checkOutputs(outputs: ReadonlyArray<string | { path: string; role: string }>, protect: readonly ProtectedFile[]): Promise<void> {
  const guarded = await Promise.all(protect.map(async (p) => ({ ...p, id: await identify(p.path) })));
  const seen: Array<{ path: string; id: Identity }> = [];
  for (const output of outputs) {
    const out = typeof output === 'string' ? output : `${output.path} (${output.role})`;
    const path = typeof output === 'string' ? output : output.path;
    const id = await identify(path);
    const twin = seen.find((s) => same(s.id, id));
    if (twin !== undefined) {
      throw new ExtractError(`${out}: the same file as the output ${twin.path}; give outputs distinct names`);
    }
    seen.push({ path, id });
    const hit = guarded.find((g) => same(g.id, id));
    if (hit !== undefined) {
      throw new ExtractError(`${out}: refusing to overwrite ${hit.what} (${hit.path}); choose another output path`);
    }
    const folder = dirname(id.resolved);
    const info = await stat(folder).catch(() => null);
    if (info === null) throw new ExtractError(`${out}: the output folder ${folder} does not exist; create it first or choose another output path`);
    if (!info.isDirectory()) throw new ExtractError(`${out}: ${folder} is not a folder; choose another output path`);
    if ((await stat(id.resolved).catch(() => null))?.isDirectory()) {
      throw new ExtractError(`${out}: is a folder; give a file name for the output, e.g. ${join(path, 'emb.npy')}`);
    }
    try {
      await access(folder, constants.W_OK);
    } catch {
      throw new ExtractError(`${out}: cannot write in the output folder ${folder} (permission denied); choose another output path`);
    }
  }
}
