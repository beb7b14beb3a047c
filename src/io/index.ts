/**
 * Reading embeddings in every input format (`openEmbeddings`, `openFormat`; .npy, .npz,
 * safetensors, Parquet, Arrow, HDF5, text) and writing .npy. A leaf module: node builtins and
 * format libraries only (yauzl, hyparquet, apache-arrow, h5wasm, lz4js, fzstd).
 */
export { NpyError, quote, describeFsError } from './errors.js';
export type { BlockOptions, EmbeddingSource, OpenNpyOptions, RawRowBlock, RowBlock } from './types.js';
export { openNpy, readEmbeddings } from './npy-reader.js';
export { matrixSource } from './memory-source.js';
export { parseNpyHeader, type NpyHeader } from './npy-header.js';
export { NpyWriter, writeNpy, type NpyWriteOptions } from './npy-writer.js';
export { writeFileAtomic, checkOutputPath, sweepStaleTemps } from './atomic-file.js';
export { sha256File } from './sha256.js';
export { openFileBytes, type ByteSource } from './byte-source.js';
export { openNpyBytes } from './npy-reader.js';
export { openEmbeddings, openFormat } from './open-format.js';
export { resolveInput, expandInput, naturalSort, isRemoteName, type ResolvedPart, type InputLocation } from './resolve-input.js';
export { concatSources } from './concat-source.js';
export { openHttpBytes, type RemoteOptions, type RemoteIdentity, type RemoteByteSource } from './http-source.js';
export { datasetName } from './open-format.js';
export { FORMATS, sniffFormat, type FormatName } from './sniff.js';
export type { OpenOptions, SourceFile } from './types.js';
