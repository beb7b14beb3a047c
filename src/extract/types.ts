/**
 * Shared shapes of the extractor: model configuration, weights, tokenized batches. Each concern
 * (safetensors, checkpoint, hub, tokenizer, encoder, input) lives in its own file and meets the
 * others only through these types.
 */

/** A user-facing problem with a model, a tokenizer, an input file or a download. */
export class ExtractError extends Error {
  override readonly name = 'ExtractError';
  /** The CLI prints the message alone and exits with code 2. */
  readonly isUserError = true;
}

/** What the encoder needs from config.json (camelCase; HF names in comments). */
export interface EncoderConfig {
  /** model_type: only these two are supported */
  modelType: 'bert' | 'roberta';
  /** hidden_size */
  hiddenSize: number;
  /** num_hidden_layers */
  numLayers: number;
  /** num_attention_heads */
  numHeads: number;
  /** intermediate_size */
  intermediateSize: number;
  /** hidden_act: 'gelu' (exact, erf), 'gelu_new' / 'gelu_pytorch_tanh' (tanh approximation), 'relu' */
  hiddenAct: 'gelu' | 'gelu_new' | 'relu';
  /** layer_norm_eps (default 1e-12) */
  layerNormEps: number;
  /** max_position_embeddings */
  maxPositions: number;
  /** type_vocab_size */
  typeVocabSize: number;
  /** vocab_size */
  vocabSize: number;
  /** pad_token_id (RoBERTa: padding_idx; its position ids start at padTokenId + 1) */
  padTokenId: number;
}

/**
 * The longest sequence (special tokens included) a model's position table allows: `maxPositions`
 * for BERT; `maxPositions - padTokenId - 1` for RoBERTa, whose positions start after padding_idx
 * (512 for roberta-base's 514 entries).
 */
export function maxSequenceLength(c: EncoderConfig): number {
  return c.modelType === 'roberta' ? c.maxPositions - c.padTokenId - 1 : c.maxPositions;
}

/** A dense float32 tensor, row-major; for HF Linear weights shape is [out, in]. */
export interface HostTensor {
  data: Float32Array;
  shape: number[];
}

/** One transformer layer's parameters, HF names in comments (prefix encoder.layer.N.). */
export interface LayerWeights {
  queryW: HostTensor; queryB: HostTensor;     // attention.self.query.{weight,bias}
  keyW: HostTensor; keyB: HostTensor;         // attention.self.key
  valueW: HostTensor; valueB: HostTensor;     // attention.self.value
  attnOutW: HostTensor; attnOutB: HostTensor; // attention.output.dense
  attnLnG: HostTensor; attnLnB: HostTensor;   // attention.output.LayerNorm.{weight,bias} (old: gamma,beta)
  interW: HostTensor; interB: HostTensor;     // intermediate.dense
  outW: HostTensor; outB: HostTensor;         // output.dense
  outLnG: HostTensor; outLnB: HostTensor;     // output.LayerNorm
}

/** All parameters of a BERT/RoBERTa encoder (+ pooler), prefix-free and with new LayerNorm names. */
export interface EncoderWeights {
  wordEmb: HostTensor;      // embeddings.word_embeddings.weight [vocab, d]
  posEmb: HostTensor;       // embeddings.position_embeddings.weight [maxPos, d]
  typeEmb: HostTensor;      // embeddings.token_type_embeddings.weight [types, d]
  embLnG: HostTensor;       // embeddings.LayerNorm.weight
  embLnB: HostTensor;       // embeddings.LayerNorm.bias
  layers: LayerWeights[];
  /** pooler.dense.{weight,bias}; absent in checkpoints saved without the pooler */
  poolerW?: HostTensor;
  poolerB?: HostTensor;
}

/** A loaded checkpoint folder. */
export interface Checkpoint {
  folder: string;
  config: EncoderConfig;
  weights: EncoderWeights;
  /** safetensors dtype(s) found, e.g. ['F32'] or ['F16'] */
  dtypes: string[];
}

/** A padded batch of token ids, ready for the encoder. */
export interface TokenBatch {
  /** batch x seq, row-major, int32 */
  ids: Int32Array;
  /** 1 for real tokens, 0 for padding */
  mask: Int32Array;
  /** segment ids (0, or 1 for the second sentence of a pair with BERT) */
  typeIds: Int32Array;
  batch: number;
  seq: number;
  /** how many sentences (or pairs) of this batch were cut to maxLength */
  truncated: number;
}

/**
 * An encoder backend: `native` = our OpenBLAS addon (float32, OpenBLAS threads); tfjs backends:
 * `tensorflow` = @tensorflow/tfjs-node, `wasm` = WebAssembly, `cpu` = plain JS. Declared here, not
 * in backend.ts, so that the package's type declarations do not pull in tfjs's (a strict consumer
 * compiles without skipLibCheck).
 */
export type BackendName = 'native' | 'tensorflow' | 'wasm' | 'cpu';
