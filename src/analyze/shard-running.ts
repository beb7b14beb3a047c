import {
  StatsError, f64Field, f64ToBase64, intField, isRecord, numberField,
} from '../stats/index.js';
import { RunningIsoBN, startOrderedFit, type TransformParams } from '../transforms/index.js';

/**
 * What isobn-running's estimator holds after replaying one shard's rows from a zero start: the
 * running covariance (upper triangle, packed) and std after `batches` full batches, and the rows
 * of the batch still being filled.
 *
 * How shards compose: an update is affine, C <- (1 - m) C + m C_batch (the std likewise), so the
 * estimator that replays shard A and then shard B ends at (1 - m)^T_B C_A + C_B, where C_A, C_B
 * are each shard's estimates from a zero start and T_B is B's number of batches. That is exact
 * when the batches of the whole replay are the batches of the shards, i.e. every shard but the
 * last holds a whole number of batches: `--shard i/N` cuts files on batch boundaries when
 * isobn-running is asked for, and merging refuses shards that end inside a batch. The last
 * shard's pending rows are replayed at the end, as the single-machine estimator does.
 */
export interface RunningState {
  batchSize: number;
  momentum: number;
  batches: number;
  /** packed upper triangle of the running covariance, d(d+1)/2 values */
  cov: Float64Array;
  std: Float64Array;
  /** rows of the unfinished batch, `pendingRows x d` */
  pending: Float64Array;
  pendingRows: number;
}

/** The JSON form of a {@link RunningState} (in a shard's statistics file and in a plan). */
export interface RunningJSON {
  batchSize: number;
  momentum: number;
  batches: number;
  cov: string;
  std: string;
  pending: string;
  pendingRows: number;
}

/** The state of an estimator that has not been finished. */
export function runningState(est: RunningIsoBN): RunningState {
  const d = est.dims;
  const cov = new Float64Array((d * (d + 1)) / 2);
  for (let i = 0, k = 0; i < d; i++) for (let j = i; j < d; j++) cov[k++] = est.cov[i * d + j];
  const pending = est.pendingRows();
  return { batchSize: est.batchSize, momentum: est.momentum, batches: est.batches, cov, std: Float64Array.from(est.std), pending: pending.data, pendingRows: pending.rows };
}

/**
 * The state of replaying the shards one after the other, in the order given (see
 * {@link RunningState}).
 * @param labels  one name per state, for messages
 * @throws StatsError when the shards were replayed with different settings, or a shard other
 *         than the last ends inside a batch
 */
export function composeRunning(states: readonly RunningState[], labels: readonly string[]): RunningState {
  const first = states[0];
  const n = first.cov.length;
  const cov = new Float64Array(n);
  const std = new Float64Array(first.std.length);
  let batches = 0;
  states.forEach((s, k) => {
    if (s.batchSize !== first.batchSize || s.momentum !== first.momentum) {
      throw new StatsError(`isobn-running: ${labels[0]} was replayed with --batch-size ${first.batchSize} --momentum ${first.momentum}, ${labels[k]} with ${s.batchSize} and ${s.momentum}: make every shard with the same settings`);
    }
    if (k > 0 && states[k - 1].pendingRows > 0) {
      throw new StatsError(`isobn-running: ${labels[k - 1]} ends inside a batch (${states[k - 1].pendingRows} of ${first.batchSize} rows), so its batches and the next shard's differ from one replay of all rows; cut the file with --shard i/N and --transform isobn-running (shards then end on batch boundaries), or analyze the file on one machine`);
    }
    const decay = (1 - s.momentum) ** s.batches;
    for (let i = 0; i < n; i++) cov[i] = decay * cov[i] + s.cov[i];
    for (let i = 0; i < std.length; i++) std[i] = decay * std[i] + s.std[i];
    batches += s.batches;
  });
  const last = states[states.length - 1];
  return { batchSize: first.batchSize, momentum: first.momentum, batches, cov, std, pending: last.pending, pendingRows: last.pendingRows };
}

/**
 * The estimator a {@link RunningState} stands for, with its pending rows fed back in (not
 * finished): `fitTransform` then finishes it as it would after one replay of all the rows.
 * @throws StatsError when `params` name other batch settings than the state's
 */
export function restoreRunning(state: RunningState, dims: number, params: TransformParams): RunningIsoBN {
  for (const [flag, want, got] of [['--batch-size', params.batchSize, state.batchSize], ['--momentum', params.momentum, state.momentum]] as const) {
    if (want !== undefined && want !== got) {
      throw new StatsError(`isobn-running: the shards were replayed with ${flag} ${got}, not ${want}: ask for ${got} (or make the shards again with ${want})`);
    }
  }
  const est = startOrderedFit('isobn-running', dims, { ...params, batchSize: state.batchSize, momentum: state.momentum })!;
  const full = new Float64Array(dims * dims);
  for (let i = 0, k = 0; i < dims; i++) for (let j = i; j < dims; j++) full[i * dims + j] = state.cov[k++];
  est.restore({ cov: full, std: state.std, batches: state.batches });
  if (state.pendingRows) est.push(state.pending, state.pendingRows);
  return est;
}

/** The JSON form of a {@link RunningState} (float64 arrays as base64, exact). */
export function runningToJSON(s: RunningState): RunningJSON {
  return {
    batchSize: s.batchSize, momentum: s.momentum, batches: s.batches,
    cov: f64ToBase64(s.cov), std: f64ToBase64(s.std), pending: f64ToBase64(s.pending), pendingRows: s.pendingRows,
  };
}

/**
 * Checks and decodes a {@link RunningJSON} of `dims`-dimensional rows that replayed `count` rows
 * (batches x batchSize + pendingRows must be count).
 * @throws StatsError naming the field
 */
export function runningFromJSON(json: unknown, dims: number, count: number, where = 'running'): RunningState {
  if (!isRecord(json)) throw new StatsError(`${where} must be an object`);
  const batchSize = intField(json, 'batchSize', 1, 2 ** 31, `${where}.batchSize`);
  const momentum = numberField(json, 'momentum', Number.MIN_VALUE, 1, `${where}.momentum`);
  const batches = intField(json, 'batches', 0, Number.MAX_SAFE_INTEGER, `${where}.batches`);
  const pendingRows = intField(json, 'pendingRows', 0, batchSize - 1, `${where}.pendingRows`);
  if (batches * batchSize + pendingRows !== count) {
    throw new StatsError(`${where}: ${batches} batches of ${batchSize} and ${pendingRows} pending rows do not make the ${count} rows counted`);
  }
  const cov = f64Field(json, 'cov', (dims * (dims + 1)) / 2, 'finite', `${where}.cov`);
  const std = f64Field(json, 'std', dims, 'finite', `${where}.std`);
  if (std.some((v) => v < 0)) throw new StatsError(`${where}.std holds a negative value`);
  for (let i = 0, k = 0; i < dims; k += dims - i, i++) {
    if (cov[k] < 0) throw new StatsError(`${where}.cov holds a negative variance (dimension ${i})`);
  }
  const pending = f64Field(json, 'pending', pendingRows * dims, 'finite', `${where}.pending`);
  return { batchSize, momentum, batches, cov, std, pending, pendingRows };
}
