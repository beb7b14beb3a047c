/**
 * Loads a Hugging Face BERT or RoBERTa folder (config.json + safetensors weights) into
 * EncoderConfig + EncoderWeights. Only safetensors are read: pickled PyTorch files can run code
 * when loaded, and this tool never unpickles.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensorsIndex, readTensor, type SafetensorsEntry } from './safetensors.js';
import { quote } from '../io/errors.js';
import { ExtractError, type Checkpoint, type EncoderConfig, type EncoderWeights, type HostTensor, type LayerWeights } from './types.js';

/** The weights of an unsharded checkpoint; looked for first. */
export const WEIGHTS_FILE = 'model.safetensors';
/** The index of a sharded checkpoint (`weight_map`: tensor name -> shard file in the same folder); looked for second. */
export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';

/** Weights in formats we refuse to read, checked only to give a helpful message. */
const FOREIGN_WEIGHTS = ['pytorch_model.bin', 'pytorch_model.bin.index.json', 'tf_model.h5', 'flax_model.msgpack'];

/** hidden_act name -> the activation we run. A Map: the name comes from the file (a plain object would answer 'toString'). */
const ACTIVATIONS: ReadonlyMap<string, EncoderConfig['hiddenAct']> = new Map([
  ['gelu', 'gelu'],
  ['gelu_new', 'gelu_new'],
  ['gelu_pytorch_tanh', 'gelu_new'],
  ['gelu_fast', 'gelu_new'],
  ['relu', 'relu'],
]);

/** Largest size parseConfig accepts: token ids and tfjs shapes are int32. */
const MAX_SIZE = 2 ** 31 - 1;

/** A config value for a message: numbers as they are, anything else through quote(). */
function shown(v: unknown): string {
  return typeof v === 'number' || typeof v === 'boolean' || v === null ? String(v) : quote(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads the encoder settings from a parsed config.json.
 *
 * `model_type` must be `bert` or `roberta`; when it is missing, an `architectures` entry starting
 * with `Bert` or `Roberta` decides (old configs). The sizes (`hidden_size`, `num_hidden_layers`,
 * `num_attention_heads`, `intermediate_size`, `max_position_embeddings`, `vocab_size`) are required
 * positive integers: guessing bert-base values for a missing one would only fail later with a
 * confusing shape error. Defaults follow transformers: `hidden_act` 'gelu', `layer_norm_eps`
 * 1e-12, `type_vocab_size` 2, `pad_token_id` 0 for BERT and 1 for RoBERTa. `gelu_new`,
 * `gelu_pytorch_tanh` and `gelu_fast` all map to the tanh approximation 'gelu_new' (gelu_fast
 * differs from it only in the last float32 bits). Only absolute position embeddings are supported.
 *
 * @param json - the parsed content of config.json.
 * @param path - the file, for error messages.
 * @throws ExtractError for another model type, an unknown activation, relative position
 *   embeddings, missing or invalid sizes, or hidden_size not divisible by num_attention_heads.
 */
export function parseConfig(json: unknown, path: string): EncoderConfig {
  const bad = (msg: string): ExtractError => new ExtractError(`${path}: ${msg}`);
  if (!isPlainObject(json)) throw bad('config.json does not hold a JSON object; re-download the model');

  let modelType: EncoderConfig['modelType'];
  const mt = json.model_type;
  if (mt === 'bert' || mt === 'roberta') {
    modelType = mt;
  } else if (mt === undefined || mt === null) {
    const archs = Array.isArray(json.architectures) ? json.architectures.filter((a): a is string => typeof a === 'string') : [];
    if (archs.some((a) => a.startsWith('Bert'))) modelType = 'bert';
    else if (archs.some((a) => a.startsWith('Roberta'))) modelType = 'roberta';
    else {
      const what = archs.length > 0 ? `architectures ${quote(archs.join(', '))}` : 'no model_type';
      throw bad(`unsupported model (${what}): isotropy extract supports bert and roberta checkpoints`);
    }
  } else {
    throw bad(`unsupported model_type ${quote(mt)}: isotropy extract supports bert and roberta checkpoints`);
  }

  const int = (key: string, fallback?: number, min = 1): number => {
    const v = json[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw bad(`config.json lacks ${key}; a ${modelType} config needs it`);
    }
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > MAX_SIZE) {
      throw bad(`${key} is ${shown(v)}; expected an integer from ${min} to ${MAX_SIZE}`);
    }
    return v;
  };

  const act = json.hidden_act ?? 'gelu';
  const hiddenAct = typeof act === 'string' ? ACTIVATIONS.get(act) : undefined;
  if (hiddenAct === undefined) {
    throw bad(`hidden_act ${quote(act)} is not supported (supported: ${[...ACTIVATIONS.keys()].join(', ')})`);
  }

  const pet = json.position_embedding_type;
  if (pet !== undefined && pet !== null && pet !== 'absolute') {
    throw bad(`position_embedding_type ${quote(pet)} is not supported: only 'absolute' position embeddings are`);
  }

  const eps = json.layer_norm_eps ?? 1e-12;
  if (typeof eps !== 'number' || !(eps > 0) || !Number.isFinite(eps)) {
    throw bad(`layer_norm_eps is ${shown(eps)}; expected a positive number`);
  }

  const hiddenSize = int('hidden_size');
  const numHeads = int('num_attention_heads');
  if (hiddenSize % numHeads !== 0) {
    throw bad(`hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}`);
  }
  const vocabSize = int('vocab_size');
  const padTokenId = int('pad_token_id', modelType === 'roberta' ? 1 : 0, 0);
  if (padTokenId >= vocabSize) throw bad(`pad_token_id ${padTokenId} is outside the vocabulary (vocab_size ${vocabSize})`);

  return {
    modelType,
    hiddenSize,
    numLayers: int('num_hidden_layers'),
    numHeads,
    intermediateSize: int('intermediate_size'),
    hiddenAct,
    layerNormEps: eps,
    maxPositions: int('max_position_embeddings'),
    typeVocabSize: int('type_vocab_size', 2),
    vocabSize,
    padTokenId,
  };
}

/**
 * The published name of a tensor, as our tables use it: without the `bert.` / `roberta.` prefix
 * that task-head models add, and with TF-era LayerNorm names (`gamma`, `beta`) renamed.
 */
export function canonicalName(name: string): string {
  let n = name;
  if (n.startsWith('bert.')) n = n.slice(5);
  else if (n.startsWith('roberta.')) n = n.slice(8);
  if (n.endsWith('.gamma')) n = `${n.slice(0, -6)}.weight`;
  else if (n.endsWith('.beta')) n = `${n.slice(0, -5)}.bias`;
  return n;
}

interface Wanted {
  name: string;
  shape: number[];
  optional?: boolean;
}

const LAYER_PARTS: ReadonlyArray<[keyof LayerWeights, string, (c: EncoderConfig) => number[]]> = [
  ['queryW', 'attention.self.query.weight', (c) => [c.hiddenSize, c.hiddenSize]],
  ['queryB', 'attention.self.query.bias', (c) => [c.hiddenSize]],
  ['keyW', 'attention.self.key.weight', (c) => [c.hiddenSize, c.hiddenSize]],
  ['keyB', 'attention.self.key.bias', (c) => [c.hiddenSize]],
  ['valueW', 'attention.self.value.weight', (c) => [c.hiddenSize, c.hiddenSize]],
  ['valueB', 'attention.self.value.bias', (c) => [c.hiddenSize]],
  ['attnOutW', 'attention.output.dense.weight', (c) => [c.hiddenSize, c.hiddenSize]],
  ['attnOutB', 'attention.output.dense.bias', (c) => [c.hiddenSize]],
  ['attnLnG', 'attention.output.LayerNorm.weight', (c) => [c.hiddenSize]],
  ['attnLnB', 'attention.output.LayerNorm.bias', (c) => [c.hiddenSize]],
  ['interW', 'intermediate.dense.weight', (c) => [c.intermediateSize, c.hiddenSize]],
  ['interB', 'intermediate.dense.bias', (c) => [c.intermediateSize]],
  ['outW', 'output.dense.weight', (c) => [c.hiddenSize, c.intermediateSize]],
  ['outB', 'output.dense.bias', (c) => [c.hiddenSize]],
  ['outLnG', 'output.LayerNorm.weight', (c) => [c.hiddenSize]],
  ['outLnB', 'output.LayerNorm.bias', (c) => [c.hiddenSize]],
];

type EmbeddingKey = 'wordEmb' | 'posEmb' | 'typeEmb' | 'embLnG' | 'embLnB';

const EMBEDDING_PARTS: ReadonlyArray<[EmbeddingKey, string, (c: EncoderConfig) => number[]]> = [
  ['wordEmb', 'embeddings.word_embeddings.weight', (c) => [c.vocabSize, c.hiddenSize]],
  ['posEmb', 'embeddings.position_embeddings.weight', (c) => [c.maxPositions, c.hiddenSize]],
  ['typeEmb', 'embeddings.token_type_embeddings.weight', (c) => [c.typeVocabSize, c.hiddenSize]],
  ['embLnG', 'embeddings.LayerNorm.weight', (c) => [c.hiddenSize]],
  ['embLnB', 'embeddings.LayerNorm.bias', (c) => [c.hiddenSize]],
];

/** Every tensor the encoder needs (published names, prefix-free) with its expected shape. */
function wantedTensors(c: EncoderConfig): Wanted[] {
  const out: Wanted[] = EMBEDDING_PARTS.map(([, name, shape]) => ({ name, shape: shape(c) }));
  for (let l = 0; l < c.numLayers; l++) {
    for (const [, part, shape] of LAYER_PARTS) out.push({ name: `encoder.layer.${l}.${part}`, shape: shape(c) });
  }
  out.push({ name: 'pooler.dense.weight', shape: [c.hiddenSize, c.hiddenSize], optional: true });
  out.push({ name: 'pooler.dense.bias', shape: [c.hiddenSize], optional: true });
  return out;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ExtractError(`${path}: cannot read ${what}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ExtractError(`${path}: ${what} is not valid JSON (${(err as Error).message}); re-download the model`);
  }
}

/**
 * Shard file names from an index's weight_map, refusing anything that could leave the folder.
 * @returns tensor name -> shard file name
 */
function parseWeightMap(json: unknown, path: string): Map<string, string> {
  const weightMap = isPlainObject(json) ? json.weight_map : undefined;
  if (!isPlainObject(weightMap)) {
    throw new ExtractError(`${path}: no "weight_map" object: not a safetensors index; re-download the model`);
  }
  const out = new Map<string, string>();
  for (const [tensor, file] of Object.entries(weightMap)) {
    if (typeof file !== 'string' || file === '' || file === '.' || file === '..' || /[/\\]/.test(file)) {
      throw new ExtractError(`${path}: weight_map entry ${quote(tensor)} -> ${quote(file)} is not a file name in this folder; re-download the model`);
    }
    out.set(tensor, file);
  }
  return out;
}

/**
 * The shard files named by a `model.safetensors.index.json`, deduplicated, in first-use order.
 * @throws ExtractError when the index is unreadable, not JSON, or names a path outside its folder.
 */
export async function shardFiles(indexPath: string): Promise<string[]> {
  return [...new Set(parseWeightMap(await readJson(indexPath, WEIGHTS_INDEX_FILE), indexPath).values())];
}

/** All tensors of the folder's weights, stored name -> entry, from one file or all shards. */
async function indexWeights(folder: string): Promise<Map<string, SafetensorsEntry>> {
  const single = join(folder, WEIGHTS_FILE);
  if (await exists(single)) {
    const { entries } = await readSafetensorsIndex(single);
    return new Map(entries.map((e) => [e.name, e]));
  }
  const indexPath = join(folder, WEIGHTS_INDEX_FILE);
  if (await exists(indexPath)) {
    const weightMap = parseWeightMap(await readJson(indexPath, WEIGHTS_INDEX_FILE), indexPath);
    const shards = new Map<string, Map<string, SafetensorsEntry>>();
    for (const file of new Set(weightMap.values())) {
      const shardPath = join(folder, file);
      if (!(await exists(shardPath))) {
        throw new ExtractError(`${folder}: shard ${quote(file)}, listed in ${WEIGHTS_INDEX_FILE}, is missing; download the model again`);
      }
      const { entries } = await readSafetensorsIndex(shardPath);
      shards.set(file, new Map(entries.map((e) => [e.name, e])));
    }
    const out = new Map<string, SafetensorsEntry>();
    for (const [tensor, file] of weightMap) {
      const entry = shards.get(file)?.get(tensor);
      if (entry === undefined) {
        throw new ExtractError(`${folder}: ${WEIGHTS_INDEX_FILE} puts ${quote(tensor)} in ${file}, which does not hold it; download the model again`);
      }
      out.set(tensor, entry);
    }
    return out;
  }
  const foreign: string[] = [];
  for (const f of FOREIGN_WEIGHTS) if (await exists(join(folder, f))) foreign.push(f);
  if (foreign.length > 0) {
    throw new ExtractError(
      `${folder}: has ${foreign.join(' and ')} but no ${WEIGHTS_FILE}: isotropy reads only safetensors weights (pickled PyTorch files can run code when loaded, and we never unpickle); convert once with ` +
        `python -c "from transformers import AutoModel; AutoModel.from_pretrained('${folder}').save_pretrained('<out>', safe_serialization=True)" and pass <out> (copy the tokenizer files along)`,
    );
  }
  throw new ExtractError(`${folder}: no ${WEIGHTS_FILE} or ${WEIGHTS_INDEX_FILE}: the folder holds no weights; download the model again`);
}

/**
 * Refuses a config whose num_hidden_layers differs from the layers the weights hold, before
 * anything is sized from it (a huge value would otherwise build a list of billions of names).
 */
function checkLayerCount(byName: ReadonlyMap<string, SafetensorsEntry>, config: EncoderConfig, folder: string): void {
  const layers = new Set<number>();
  for (const name of byName.keys()) {
    const m = /^encoder\.layer\.(\d+)\./.exec(name);
    if (m !== null) layers.add(Number(m[1]));
  }
  // Counted, not taken from the largest index: a single tensor named encoder.layer.999999999.x
  // must not make a billion layers plausible.
  const stored = layers.size;
  const contiguous = [...layers].every((l) => l < stored);
  if (stored !== config.numLayers || !contiguous) {
    const held = stored === 0 ? 'no encoder layers' : contiguous ? `layers 0 to ${stored - 1}` : `${stored} layers numbered with gaps`;
    throw new ExtractError(
      `${folder}: config.json says num_hidden_layers ${config.numLayers}, but the weights hold ${held}; the config belongs to another model, or the weights are incomplete`,
    );
  }
}

/** Weights are checked when loaded: one NaN or Inf would make every embedding NaN. */
function checkFinite(data: Float32Array, entry: SafetensorsEntry): void {
  // x * 0 is 0 for every finite x and NaN otherwise: one branch-free pass for the usual clean tensor.
  let probe = 0;
  for (let i = 0; i < data.length; i++) probe += data[i] * 0;
  if (probe === 0) return;
  let bad = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      bad++;
      if (first < 0) first = i;
    }
  }
  throw new ExtractError(
    `${entry.file}: tensor ${quote(entry.name)} holds ${bad} non-finite value(s) (the first, ${data[first]}, at flat index ${first}): the weights are corrupt or were saved after a diverged training run; re-download or fix the checkpoint`,
  );
}

/**
 * Loads a Hugging Face BERT/RoBERTa model folder.
 *
 * Reads config.json ({@link parseConfig}) and the weights from `model.safetensors`, or from the
 * shards listed in `model.safetensors.index.json` (same folder). Tensor names may carry the
 * `bert.` / `roberta.` prefix of task models and the old `gamma` / `beta` LayerNorm names; heads and
 * extras (`cls.*`, `lm_head.*`, `classifier.*`, `qa_outputs.*`, `embeddings.position_ids`, ...)
 * are ignored and never read. The pooler is loaded when both of its tensors are present. Every
 * needed tensor's presence, dtype and shape are checked against the config before any data is
 * read; all tensors are converted to float32.
 *
 * @param folder - the model folder.
 * @returns the config, the weights, and `dtypes`: the sorted distinct safetensors dtypes of the
 *   tensors loaded (ignored tensors do not count).
 * @throws ExtractError for a missing folder or config.json, unsupported configs, pytorch/TF-only
 *   folders (with the conversion command), corrupt files, missing weights (one message listing
 *   the first 10 names and the count), a layer count or shape that disagrees with the config, a
 *   name that appears twice (e.g. both `bert.x` and `x`), or a weight holding NaN or Inf (naming
 *   the tensor).
 */
export async function loadCheckpoint(folder: string): Promise<Checkpoint> {
  const info = await stat(folder).catch(() => null);
  if (info === null) throw new ExtractError(`${folder}: no such folder`);
  if (!info.isDirectory()) throw new ExtractError(`${folder}: is a file, not a model folder (expected a folder with config.json and ${WEIGHTS_FILE})`);
  const configPath = join(folder, 'config.json');
  if (!(await exists(configPath))) {
    throw new ExtractError(`${folder}: no config.json: this is not a Hugging Face model folder (expected config.json and ${WEIGHTS_FILE})`);
  }
  const config = parseConfig(await readJson(configPath, 'config.json'), configPath);

  const stored = await indexWeights(folder);
  const byName = new Map<string, SafetensorsEntry>();
  // Collisions only matter for tensors we use: heads may repeat names harmlessly.
  const clashes = new Map<string, string>();
  for (const [name, entry] of stored) {
    const canon = canonicalName(name);
    const other = byName.get(canon);
    if (other !== undefined) clashes.set(canon, `${quote(other.name)} and ${quote(name)}`);
    else byName.set(canon, entry);
  }

  checkLayerCount(byName, config, folder);
  const wanted = wantedTensors(config);
  const hasPooler = byName.has('pooler.dense.weight') && byName.has('pooler.dense.bias');
  const missing: string[] = [];
  const problems: string[] = [];
  for (const w of wanted) {
    const clash = clashes.get(w.name);
    if (clash !== undefined) {
      throw new ExtractError(`${folder}: the weights hold both ${clash}, which are the same tensor ${w.name}; the checkpoint is ambiguous`);
    }
    const entry = byName.get(w.name);
    if (entry === undefined) {
      if (!w.optional) missing.push(w.name);
      continue;
    }
    if (w.optional && !hasPooler) continue;
    if (entry.dtype !== 'F32' && entry.dtype !== 'F16' && entry.dtype !== 'BF16' && entry.dtype !== 'F64') {
      problems.push(`${quote(entry.name)} has dtype ${entry.dtype}, not a float`);
    } else if (entry.shape.length !== w.shape.length || entry.shape.some((d, i) => d !== w.shape[i])) {
      const got = entry.shape.length <= 8 ? `[${entry.shape.join(', ')}]` : `${entry.shape.length} dimensions`;
      problems.push(`${quote(entry.name)} has shape ${got}, config.json implies [${w.shape.join(', ')}]`);
    }
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 10).join(', ') + (missing.length > 10 ? ', ...' : '');
    throw new ExtractError(
      `${folder}: missing weights: ${shown} (${missing.length} missing); the checkpoint is incomplete or not a ${config.modelType} encoder`,
    );
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');
    throw new ExtractError(`${folder}: weights do not match config.json: ${shown}; the config belongs to another model or the file is corrupt`);
  }

  const dtypes = new Set<string>();
  const load = async (name: string): Promise<HostTensor> => {
    const entry = byName.get(name)!;
    dtypes.add(entry.dtype);
    const t = await readTensor(entry);
    checkFinite(t.data, entry);
    return t;
  };

  const embeddings = {} as Record<EmbeddingKey, HostTensor>;
  for (const [key, name] of EMBEDDING_PARTS) embeddings[key] = await load(name);
  const weights: EncoderWeights = { ...embeddings, layers: [] };
  for (let l = 0; l < config.numLayers; l++) {
    const layer = {} as Record<keyof LayerWeights, HostTensor>;
    for (const [key, part] of LAYER_PARTS) layer[key] = await load(`encoder.layer.${l}.${part}`);
    weights.layers.push(layer);
  }
  if (hasPooler) {
    weights.poolerW = await load('pooler.dense.weight');
    weights.poolerB = await load('pooler.dense.bias');
  }
  return { folder, config, weights, dtypes: [...dtypes].sort() };
}
