import type { EmbeddingSource, SourceFile } from './types.js';

/**
 * `src` seen with some of its descriptive fields replaced: a member or slice read by an inner
 * reader shown under the user's file name and format, a remote file with its provenance. Every
 * other member is the source's own, the optional ones included (`rawBlocks`, `labels`), so a
 * reader's fast paths and labels survive the view.
 */
export function sourceView(src: EmbeddingSource, own: { path?: string; format?: string; files?: readonly SourceFile[] }): EmbeddingSource {
  return {
    get path() { return own.path ?? src.path; },
    get format() { return own.format ?? src.format; },
    get files() { return own.files ?? src.files; },
    get rows() { return src.rows; },
    get dims() { return src.dims; },
    get dtype() { return src.dtype; },
    get fortranOrder() { return src.fortranOrder; },
    get shape() { return src.shape; },
    get layer() { return src.layer; },
    get layers() { return src.layers; },
    get notes() { return src.notes; },
    blocks: (o) => src.blocks(o),
    ...(src.rawBlocks ? { rawBlocks: (o) => src.rawBlocks!(o) } : {}),
    close: () => src.close(),
    ...(src.labels ? { labels: () => src.labels!() } : {}),
  };
}
