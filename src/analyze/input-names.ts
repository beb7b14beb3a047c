import { basename, extname } from 'node:path';

/**
 * The short name of an input for labels and report file names: a file's name without `.npy`
 * (other extensions kept, so `emb.npy` and `emb.parquet` stay apart), a URL's or `hf://` path's
 * last segment, a glob's folder (`emb/*.parquet` -> `emb`), a directory's name.
 */
export function inputStem(name: string): string {
  let path = name;
  const url = /^(https?|hf):\/\//i.test(name);
  if (url) {
    try {
      path = decodeURIComponent(new URL(name.replace(/^hf:/i, 'https:')).pathname);
    } catch {
      // keep the name
    }
  }
  const segments = path.split(/[\\/]/).filter((s) => s !== '' && s !== '.');
  // a glob: the last segment without pattern characters (its folder)
  while (segments.length > 1 && /[*?[\]{}]/.test(segments[segments.length - 1])) segments.pop();
  const last = segments.length ? segments[segments.length - 1] : name;
  if (/[*?[\]{}]/.test(last)) return 'dataset';
  return basename(last, extname(last) === '.npy' ? '.npy' : '');
}
