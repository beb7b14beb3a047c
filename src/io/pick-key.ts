import { npyFail, quote } from './errors.js';
import { shapeInMessage } from './npy-header.js';

/** One array of a container (.npz member, safetensors tensor, HDF5 dataset, Parquet/Arrow column). */
export interface Candidate {
  key: string;
  shape: readonly number[];
  dtype: string;
}

/** Arrays listed in full in an error; the rest are counted. */
const MAX_LISTED = 12;

/** `name (n, d) <f4, ...` for an error message, at most MAX_LISTED entries. */
export function describeCandidates(list: readonly Candidate[]): string {
  const shown = list.slice(0, MAX_LISTED).map((c) => `${quote(c.key, 60)} ${shapeInMessage(c.shape)} ${c.dtype}`);
  if (list.length > MAX_LISTED) shown.push(`and ${list.length - MAX_LISTED} more`);
  return shown.join(', ');
}

/**
 * The array `key` names (also matched without a trailing `.npy` or leading `/`), or by default the
 * only 2-D/3-D array. Errors list every array with its shape and dtype.
 *
 * @param what - what the key names, for messages (`member`, `tensor`, `dataset`).
 * @param option - the option that picks one, e.g. `key` (`--key`).
 */
export function pickKey<T extends Candidate>(path: string, list: readonly T[], key: string | undefined, what: string, option = 'key'): T {
  if (key !== undefined) {
    const norm = (s: string) => s.replace(/\.npy$/, '').replace(/^\/+/, '');
    const hit = list.find((c) => c.key === key) ?? list.find((c) => norm(c.key) === norm(key));
    if (hit) return hit;
    throw npyFail(path, `has no ${what} ${quote(key, 60)}; it has ${describeCandidates(list)}: pick one with the ${option} option (--${option})`);
  }
  const usable = list.filter((c) => c.shape.length === 2 || c.shape.length === 3);
  if (usable.length === 1) return usable[0];
  if (usable.length === 0) {
    throw npyFail(path, `has no 2-D (n, d) or 3-D (n, layers, d) ${what}; it has ${list.length ? describeCandidates(list) : 'nothing'}: save the embedding matrix as one`);
  }
  throw npyFail(path, `has ${usable.length} 2-D/3-D ${what}s: ${describeCandidates(usable)}; pick one with the ${option} option (--${option})`);
}

/** A column of vectors in a table (Parquet, Arrow): lists of numbers, or float32 blobs. */
export interface VectorColumn {
  name: string;
  kind: string;
  dtype: string;
}

/**
 * The vector column `want` names, or by default the only one. Errors list the vector columns (and
 * say when `want` names a column that holds something else).
 *
 * @param others - the names of the table's other columns
 * @param storeAs - the column type to suggest when the table has no vector column
 */
export function pickVectorColumn<C extends VectorColumn>(path: string, columns: readonly C[], others: readonly string[], want: string | undefined, storeAs: string): C {
  const listed = () => columns.map((c) => `${quote(c.name, 60)} (${c.kind === 'blob' ? 'float32 blobs' : `list of ${c.dtype}`})`).join(', ');
  if (want !== undefined) {
    const hit = columns.find((c) => c.name === want);
    if (hit) return hit;
    const other = others.includes(want) ? ` (${quote(want, 60)} is not a list of numbers or float32 blobs)` : '';
    throw npyFail(path, `has no vector column ${quote(want, 60)}${other}; ${columns.length ? `its vector columns: ${listed()}` : 'it has no vector columns'}: pick one with the column option (--column)`);
  }
  if (columns.length === 1) return columns[0];
  if (columns.length === 0) {
    throw npyFail(path, `has no column of vectors (lists of numbers, or float32 binary blobs); its columns: ${quote(others.join(', '))}: store the embeddings as a ${storeAs} column`);
  }
  throw npyFail(path, `has ${columns.length} vector columns: ${listed()}; pick one with the column option (--column)`);
}
