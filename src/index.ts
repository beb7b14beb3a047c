/**
 * isotropy-toolkit: how isotropic are your embeddings, and what does IsoBN do to them?
 *
 * Read embeddings (`readEmbeddings`, `openNpy`), compute one-pass sufficient statistics
 * (`StatsAccumulator`) and the metrics built from them, transform with IsoBN and friends, and run
 * the whole analysis (`analyze`) as `isotropy analyze` does.
 */
export * from './io/index.js';
export * from './stats/index.js';
export * from './transforms/index.js';
export * from './analyze/index.js';
export * from './extract/index.js';
