export { ExtractError, maxSequenceLength, type Checkpoint, type EncoderConfig, type EncoderWeights, type HostTensor, type LayerWeights, type TokenBatch } from './types.js';
export { extract, outputPaths, resolveLayers, POOLINGS, EXTRACT_SCHEMA, type ExtractOptions, type ExtractMetadata } from './extract.js';
export { loadCheckpoint, parseConfig } from './checkpoint.js';
export { readSafetensorsIndex, readTensor, type SafetensorsEntry } from './safetensors.js';
export { resolveModel, type HubOptions, type ResolvedModel } from './hub.js';
export { loadTokenizer, type TextTokenizer } from './tokenizer.js';
export { readSentences, type SentenceInput, type ReadSentencesOptions, type InputFormat } from './input.js';
export type { Pooling } from './encoder.js';
export type { BackendName } from './types.js';
