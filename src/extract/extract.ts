import { NpyWriter, writeFileAtomic } from '../io/index.js';
import type { BackendName } from './backend.js';
import { loadCheckpoint } from './checkpoint.js';
import type { Pooling } from './encoder.js';
import { resolveModel, type HubOptions } from './hub.js';
import { readSentences } from './input.js';
import { loadTokenizer } from './tokenizer.js';
import { ExtractError, maxSequenceLength, type Checkpoint } from './types.js';

export const POOLINGS: readonly Pooling[] = ['cls', 'pooler', 'mean'];
export const EXTRACT_SCHEMA = 'isotropy.extract/v1';

/** Options of {@link extract}. */
export interface ExtractOptions {
  /** a Hugging Face model folder, or a hub model id (downloaded into the cache) */
  model: string;
  /** sentences: text (one per line), JSONL (`field`), TSV/CSV (`column`) */
  input: string;
  /** output .npy; with several poolings `emb.npy` becomes `emb.cls.npy`, `emb.mean.npy`, ... */
  out: string;
  field?: string;
  column?: string;
  /** second sentence of a pair (JSONL field or TSV/CSV column), e.g. MNLI's hypothesis */
  pairField?: string;
  /** default ['cls'] */
  poolings?: Pooling[];
  /**
   * hidden-state indices: 0 = embedding output, 1..L = after layer i, negative from the end;
   * 'all' = 0..L; default [-1] (last). One layer gives (n, d) files, several (n, layers, d).
   * The pooler always reads the last layer.
   */
  layers?: number[] | 'all';
  /** tokens per sentence (or pair), special tokens included; longer ones are cut and counted; default 128 (or the model's positions, if fewer) */
  maxLength?: number;
  /** sentences per forward pass; default 32 */
  batchSize?: number;
  /** encoder backend; default the fastest that loads (native OpenBLAS addon, tfjs-node, wasm, cpu) */
  backend?: BackendName;
  /** encoder threads: OpenBLAS threads for native; for wasm/cpu workers each with its own backend and copy of the weights; default: OpenBLAS's count for native, the cores for wasm/cpu, 1 for tfjs-node */
  threads?: number;
  /** hub settings (revision, offline, endpoint, cache folder) */
  hub?: HubOptions;
  onProgress?: (done: number, total: number) => void;
  onWarning?: (message: string) => void;
  /** called once the backend and thread count are chosen, before the long part */
  onBackend?: (backend: BackendName, threads: number) => void;
}

/** What the sidecar `emb.json` holds. */
export interface ExtractMetadata {
  schema: typeof EXTRACT_SCHEMA;
  model: string;
  folder: string;
  repo: string | null;
  revision: string | null;
  commit: string | null;
  modelType: string;
  hiddenSize: number;
  numLayers: number;
  weightDtypes: string[];
  poolings: Pooling[];
  layers: number[];
  maxLength: number;
  batchSize: number;
  truncated: number;
  tokenizer: string;
  backend: BackendName;
  threads: number;
  sentences: number;
  skippedEmpty: number;
  pairs: boolean;
  input: { path: string; format: string; sha256: string; field?: string; column?: string; pairField?: string };
  outputs: Array<{ pooling: Pooling; path: string; shape: number[] }>;
  created: string;
}

/** `emb.npy` -> `emb.cls.npy` (several poolings) and `emb.json` (sidecar). */
export function outputPaths(out: string, poolings: readonly Pooling[]): { npy: Map<Pooling, string>; sidecar: string } {
  const stem = out.endsWith('.npy') ? out.slice(0, -4) : out;
  const npy = new Map(poolings.map((p) => [p, poolings.length === 1 ? out : `${stem}.${p}.npy`] as const));
  return { npy, sidecar: `${stem}.json` };
}

/** Sentences are sorted by length within this many batches, so a batch pads little; order is restored. */
const SORT_WINDOW_BATCHES = 16;

/**
 * Encodes every sentence of `input` with a BERT/RoBERTa checkpoint and writes the pooled vectors
 * as float32 .npy (plus a JSON sidecar with the provenance). Outputs appear only when complete.
 *
 * @throws ExtractError for a bad model, tokenizer, input or download; NpyError for output paths
 */
export async function extract(opts: ExtractOptions): Promise<ExtractMetadata> {
  const poolings = [...new Set<Pooling>(opts.poolings ?? ['cls'])];
  for (const p of poolings) {
    if (!POOLINGS.includes(p)) throw new ExtractError(`unknown pooling "${p}": choose from ${POOLINGS.join(', ')}`);
  }
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ExtractError(`--batch-size must be a whole number >= 1, got ${batchSize}`);

  const resolved = await resolveModel(opts.model, opts.hub);
  let ckpt: Checkpoint | null = await loadCheckpoint(resolved.folder);
  const cfg = ckpt.config;
  const weightDtypes = ckpt.dtypes;
  const positions = maxSequenceLength(cfg);
  const maxLength = opts.maxLength ?? Math.min(128, positions);
  if (!Number.isInteger(maxLength) || maxLength > positions) {
    throw new ExtractError(`--max-length ${maxLength} is more than the ${positions} positions ${opts.model} has: use at most ${positions}`);
  }
  if (poolings.includes('pooler') && !(ckpt.weights.poolerW && ckpt.weights.poolerB)) {
    // roberta-base, for one, ships without them; transformers would fill in random ones.
    throw new ExtractError(`${opts.model}: the checkpoint has no pooler weights (pooler.dense.*), so its pooler output is undefined: use --pooling cls or mean`);
  }
  const layers = resolveLayers(opts.layers ?? [-1], cfg.numLayers);
  const tokenizer = await loadTokenizer(resolved.folder, cfg.modelType);
  const input = await readSentences(opts.input, { field: opts.field, column: opts.column, pairField: opts.pairField });
  if (input.skippedEmpty) opts.onWarning?.(`${opts.input}: skipped ${input.skippedEmpty} empty line(s)`);

  // tfjs loads only here, so that `isotropy analyze` and friends start without it.
  const { initBackend, openEncoder, defaultThreads } = await import('./runtime.js');
  const backend = await initBackend(opts.backend);
  const threads = opts.threads ?? defaultThreads(backend);
  if (!Number.isInteger(threads) || threads < 1) throw new ExtractError(`--threads must be a whole number >= 1, got ${threads}`);
  opts.onBackend?.(backend, threads);
  const encoder = await openEncoder(ckpt, backend, threads);
  ckpt = null; // the encoder (or its threads) hold the weights now; let the host copy go
  const n = input.sentences.length;
  const d = cfg.hiddenSize;
  const paths = outputPaths(opts.out, poolings);
  const layerPoolings = poolings.some((p) => p !== 'pooler');
  const layerCount = (p: Pooling) => (p === 'pooler' ? 1 : layers.length);
  const shapeOf = (p: Pooling) => (layerCount(p) === 1 ? [n, d] : [n, layerCount(p), d]);
  const writers = new Map<Pooling, NpyWriter>();
  let truncated = 0;
  let done = 0;
  try {
    for (const p of poolings) {
      writers.set(p, await NpyWriter.create(paths.npy.get(p)!, n, layerCount(p) * d, { dtype: 'f4', protect: [opts.input], rowShape: shapeOf(p).slice(1) }));
    }
    const window = batchSize * SORT_WINDOW_BATCHES;
    for (let start = 0; start < n; start += window) {
      const end = Math.min(n, start + window);
      // Characters stand in for tokens when grouping similar lengths: close enough to save most of
      // the padding, without tokenizing every sentence twice.
      const chars = (i: number) => input.sentences[i].length + (input.pairs?.[i].length ?? 0);
      const order = Array.from({ length: end - start }, (_, k) => start + k).sort((a, b) => chars(a) - chars(b) || a - b);
      const chunk = new Map<Pooling, Float32Array>(poolings.map((p) => [p, new Float32Array((end - start) * layerCount(p) * d)]));
      // Every batch of the window is in flight at once, so all encoder threads stay busy.
      const jobs: Array<Promise<void>> = [];
      for (let b = 0; b < order.length; b += batchSize) {
        const idx = order.slice(b, b + batchSize);
        const batch = tokenizer.encodeBatch(idx.map((i) => input.sentences[i]), input.pairs ? idx.map((i) => input.pairs![i]) : undefined, maxLength);
        truncated += batch.truncated;
        jobs.push(encoder.encode(batch, { layers: layerPoolings ? layers : [], poolings }).then((result) => {
          for (const p of poolings) {
            const row = layerCount(p) * d;
            const got = result.pooled.get(p)!.data;
            const dst = chunk.get(p)!;
            idx.forEach((i, k) => dst.set(got.subarray(k * row, (k + 1) * row), (i - start) * row));
          }
          done += idx.length;
          opts.onProgress?.(done, n);
        }));
      }
      await Promise.all(jobs);
      for (const p of poolings) await writers.get(p)!.write(chunk.get(p)!, end - start);
    }
    for (const w of writers.values()) await w.commit();
  } catch (err) {
    await Promise.all([...writers.values()].map((w) => w.abort()));
    throw err;
  } finally {
    await encoder.dispose();
  }
  if (truncated) opts.onWarning?.(`${truncated} of ${n} sentence(s) were longer than --max-length ${maxLength} tokens and were truncated`);

  const meta: ExtractMetadata = {
    schema: EXTRACT_SCHEMA,
    model: opts.model,
    folder: resolved.folder,
    repo: resolved.repo,
    revision: resolved.revision,
    commit: resolved.commit,
    modelType: cfg.modelType,
    hiddenSize: d,
    numLayers: cfg.numLayers,
    weightDtypes,
    poolings,
    layers,
    maxLength,
    batchSize,
    truncated,
    tokenizer: tokenizer.kind,
    backend,
    threads,
    sentences: n,
    skippedEmpty: input.skippedEmpty,
    pairs: input.pairs !== undefined,
    input: { path: opts.input, format: input.format, sha256: input.sha256, field: opts.field, column: opts.column, pairField: opts.pairField },
    outputs: poolings.map((p) => ({ pooling: p, path: paths.npy.get(p)!, shape: shapeOf(p) })),
    created: new Date().toISOString(),
  };
  await writeFileAtomic(paths.sidecar, `${JSON.stringify(meta, null, 2)}\n`, { protect: [opts.input] });
  return meta;
}

/** Hidden-state indices 0..L from user input (negative from the end, 'all'); sorted, unique. */
export function resolveLayers(layers: readonly number[] | 'all', numLayers: number): number[] {
  if (layers === 'all') return Array.from({ length: numLayers + 1 }, (_, i) => i);
  const out = new Set<number>();
  for (const l of layers) {
    if (!Number.isInteger(l) || l > numLayers || l < -(numLayers + 1)) {
      throw new ExtractError(`layer ${l} does not exist: the model has hidden states 0 (embeddings) to ${numLayers} (or -1 to -${numLayers + 1} from the end)`);
    }
    out.add(l < 0 ? numLayers + 1 + l : l);
  }
  return [...out].sort((a, b) => a - b);
}
