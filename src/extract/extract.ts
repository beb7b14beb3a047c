import { NpyWriter, writeFileAtomic } from '../io/index.js';
import { quote } from '../io/errors.js';
import type { BackendName } from './types.js';
import { loadCheckpoint } from './checkpoint.js';
import type { Pooling } from './encoder.js';
import { resolveModel, type HubOptions } from './hub.js';
import { readSentences } from './input.js';
import { checkOutputs, modelFiles, type ProtectedFile } from './outputs.js';
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
  layers?: readonly number[] | 'all';
  /** tokens per sentence (or pair), special tokens included; longer ones are cut and counted; default 128 (or the model's positions, if fewer) */
  maxLength?: number;
  /** sentences per forward pass; default 32 */
  batchSize?: number;
  /** encoder backend; default the fastest that loads (native OpenBLAS addon, tfjs-node, wasm, cpu) */
  backend?: BackendName;
  /** encoder threads: OpenBLAS threads for native; for wasm/cpu workers each with its own backend and copy of the weights; default: OpenBLAS's count for native, the cores for wasm/cpu, 1 for tfjs-node */
  threads?: number;
  /**
   * Sentences whose vectors hold NaN or Inf (a model that overflows on them) are left out of every
   * output, counted in the sidecar (`droppedNonfinite`, `droppedRows`: their 0-based indices among
   * the input's non-empty sentences) and in a warning, instead of failing; default false.
   */
  dropNonfinite?: boolean;
  /** hub settings (revision, offline, endpoint, cache folder, timeouts) */
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
  /** sentences left out for NaN/Inf vectors (only with dropNonfinite; else such a sentence is an error) */
  droppedNonfinite: number;
  /** their 0-based indices among the input's non-empty sentences, so rows can be matched to sentences */
  droppedRows: number[];
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
 * Before the long work (download, loading, encoding), the output paths are checked: distinct,
 * writable, and none of them an input (the sentence file, or any file of the model folder or
 * cache snapshot). Vectors holding NaN or Inf are an error (or dropped and counted, see
 * `dropNonfinite`); an output whose rows are all the same vector draws a warning.
 *
 * @throws ExtractError for a bad model, tokenizer, input, output path or download; NpyError when
 *   writing fails
 */
export async function extract(opts: ExtractOptions): Promise<ExtractMetadata> {
  const poolings = [...new Set<Pooling>(opts.poolings ?? ['cls'])];
  for (const p of poolings) {
    if (!POOLINGS.includes(p)) throw new ExtractError(`unknown pooling ${quote(p)}: choose from ${POOLINGS.join(', ')}`);
  }
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ExtractError(`--batch-size must be a whole number >= 1, got ${batchSize}`);
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1)) {
    throw new ExtractError(`--threads must be a whole number >= 1, got ${opts.threads}`);
  }
  if (opts.maxLength !== undefined && (!Number.isInteger(opts.maxLength) || opts.maxLength < 1)) {
    throw new ExtractError(`--max-length must be a whole number of tokens >= 1, got ${opts.maxLength}`);
  }
  const paths = outputPaths(opts.out, poolings);
  const outputs = [...paths.npy.values(), { path: paths.sidecar, role: 'the sidecar written beside the .npy output' }];
  const inputFile: ProtectedFile = { path: opts.input, what: 'the input file' };
  await checkOutputs(outputs, [inputFile]);
  const input = await readSentences(opts.input, { field: opts.field, column: opts.column, pairField: opts.pairField });

  const resolved = await resolveModel(opts.model, opts.hub);
  // Every file of the model (config.json, weights, tokenizer) is an input too.
  const protect: ProtectedFile[] = [
    inputFile,
    ...(await modelFiles(resolved.folder)).map((path) => ({ path, what: `a file of the model ${opts.model}` })),
  ];
  await checkOutputs(outputs, protect);
  const protectPaths = protect.map((p) => p.path);

  let ckpt: Checkpoint | null = await loadCheckpoint(resolved.folder);
  const cfg = ckpt.config;
  const weightDtypes = ckpt.dtypes;
  const positions = maxSequenceLength(cfg);
  const maxLength = opts.maxLength ?? Math.min(128, positions);
  if (maxLength > positions) {
    throw new ExtractError(`--max-length ${maxLength} is more than the ${positions} positions ${opts.model} has: use at most ${positions}`);
  }
  if (poolings.includes('pooler') && !(ckpt.weights.poolerW && ckpt.weights.poolerB)) {
    // roberta-base, for one, ships without them; transformers would fill in random ones.
    throw new ExtractError(`${opts.model}: the checkpoint has no pooler weights (pooler.dense.*), so its pooler output is undefined: use --pooling cls or mean`);
  }
  const layers = resolveLayers(opts.layers ?? [-1], cfg.numLayers);
  const tokenizer = await loadTokenizer(resolved.folder, cfg.modelType);
  if (input.skippedEmpty) opts.onWarning?.(`${opts.input}: skipped ${input.skippedEmpty} empty line(s)`);

  // tfjs loads only here, so that `isotropy analyze` and friends start without it.
  const { initBackend, openEncoder, defaultThreads } = await import('./runtime.js');
  const backend = await initBackend(opts.backend);
  const threads = opts.threads ?? defaultThreads(backend);
  opts.onBackend?.(backend, threads);
  const encoder = await openEncoder(ckpt, backend, threads);
  ckpt = null; // the encoder (or its threads) hold the weights now; let the host copy go
  const n = input.sentences.length;
  const d = cfg.hiddenSize;
  const dropNonfinite = opts.dropNonfinite ?? false;
  const layerPoolings = poolings.some((p) => p !== 'pooler');
  const layerCount = (p: Pooling) => (p === 'pooler' ? 1 : layers.length);
  const writers = new Map<Pooling, NpyWriter>();
  const sameRows = new Map<Pooling, SameRows>(poolings.map((p) => [p, new SameRows()]));
  const droppedRows: number[] = [];
  let truncated = 0;
  let done = 0;
  try {
    for (const p of poolings) {
      const rowShape = layerCount(p) === 1 ? [d] : [layerCount(p), d];
      writers.set(p, await NpyWriter.create(paths.npy.get(p)!, n, layerCount(p) * d, { dtype: 'f4', protect: protectPaths, rowShape, allowFewerRows: dropNonfinite }));
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
      const keep = finiteRows(chunk, poolings, end - start, (p) => layerCount(p) * d);
      const bad = keep.length === end - start ? [] : missingFrom(keep, end - start).map((k) => start + k);
      if (bad.length > 0 && !dropNonfinite) {
        const i = bad[0];
        throw new ExtractError(
          `${opts.input}: the vectors of sentence ${i + 1} of ${n} (${quote(input.sentences[i], 60)}) hold NaN or Inf: the model overflows on it; pass --drop-nonfinite (API: dropNonfinite) to leave such sentences out, counted in the sidecar`,
        );
      }
      droppedRows.push(...bad);
      for (const p of poolings) {
        const row = layerCount(p) * d;
        const data = compactRows(chunk.get(p)!, keep, row, end - start);
        sameRows.get(p)!.see(data, keep.length, row);
        await writers.get(p)!.write(data, keep.length);
      }
    }
    if (n > 0 && droppedRows.length === n) {
      throw new ExtractError(`${opts.input}: the vectors of every sentence hold NaN or Inf: the model overflows on all of them; nothing was written`);
    }
    for (const w of writers.values()) await w.commit();
  } catch (err) {
    await Promise.all([...writers.values()].map((w) => w.abort()));
    throw err;
  } finally {
    await encoder.dispose();
  }
  const kept = n - droppedRows.length;
  const shapeOf = (p: Pooling) => (layerCount(p) === 1 ? [kept, d] : [kept, layerCount(p), d]);
  if (truncated) opts.onWarning?.(`${truncated} of ${n} sentence(s) were longer than --max-length ${maxLength} tokens and were truncated`);
  if (droppedRows.length > 0) {
    opts.onWarning?.(`dropped ${droppedRows.length} of ${n} sentence(s) whose vectors hold NaN or Inf (--drop-nonfinite); their indices are in ${paths.sidecar} (droppedRows)`);
  }
  for (const p of poolings) {
    if (kept >= 2 && sameRows.get(p)!.allSame) {
      const layer0 = p === 'cls' && layers.length === 1 && layers[0] === 0;
      opts.onWarning?.(
        `all ${kept} rows of ${paths.npy.get(p)!} are the same vector, so every statistic of it is degenerate: ` +
          (layer0
            ? 'expected for the [CLS] vector of layer 0 (the embedding layer, which sees no context); use a later layer or --pooling mean'
            : 'are all the sentences the same? else the tokenizer or the model is broken'),
      );
    }
  }

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
    droppedNonfinite: droppedRows.length,
    droppedRows,
    pairs: input.pairs !== undefined,
    input: { path: opts.input, format: input.format, sha256: input.sha256, field: opts.field, column: opts.column, pairField: opts.pairField },
    outputs: poolings.map((p) => ({ pooling: p, path: paths.npy.get(p)!, shape: shapeOf(p) })),
    created: new Date().toISOString(),
  };
  await writeFileAtomic(paths.sidecar, `${JSON.stringify(meta, null, 2)}\n`, { protect: protectPaths });
  return meta;
}

/** Whether every row seen so far is bitwise the same as the first. */
class SameRows {
  private first: Uint32Array | null = null;
  allSame = true;

  see(data: Float32Array, rows: number, width: number): void {
    if (!this.allSame) return;
    const bits = new Uint32Array(data.buffer, data.byteOffset, rows * width);
    for (let r = 0; r < rows; r++) {
      const row = bits.subarray(r * width, (r + 1) * width);
      if (this.first === null) {
        this.first = row.slice();
        continue;
      }
      for (let j = 0; j < width; j++) {
        if (row[j] !== this.first[j]) {
          this.allSame = false;
          return;
        }
      }
    }
  }
}

/** Indices (within the chunk) of the rows whose vectors are finite in every pooling. */
function finiteRows(chunk: ReadonlyMap<Pooling, Float32Array>, poolings: readonly Pooling[], rows: number, width: (p: Pooling) => number): number[] {
  const keep: number[] = [];
  for (let r = 0; r < rows; r++) {
    let probe = 0;
    for (const p of poolings) {
      const w = width(p);
      const data = chunk.get(p)!;
      // x * 0 is 0 for finite x, NaN for NaN and Inf: one sum per row tells.
      for (let j = r * w, e = j + w; j < e; j++) probe += data[j] * 0;
    }
    if (probe === 0) keep.push(r);
  }
  return keep;
}

function missingFrom(keep: readonly number[], rows: number): number[] {
  const kept = new Set(keep);
  return Array.from({ length: rows }, (_, r) => r).filter((r) => !kept.has(r));
}

/** The kept rows of `data`, in order, at its start (in place when rows were dropped). */
function compactRows(data: Float32Array, keep: readonly number[], width: number, rows: number): Float32Array {
  if (keep.length === rows) return data;
  keep.forEach((r, k) => {
    if (r !== k) data.copyWithin(k * width, r * width, (r + 1) * width);
  });
  return data.subarray(0, keep.length * width);
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
