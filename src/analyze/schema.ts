import type { MomentMetrics } from '../stats/index.js';
import type { TransformName } from '../transforms/index.js';

/** Version tag of the `--json` output; other tools key on it. */
export const ANALYSIS_SCHEMA = 'isotropy.analysis/v1';

/** One analysed input, as the header of the table and `inputs[]` of the JSON. */
export interface InputInfo {
  path: string;
  /** rows in the file (or in all shards), dropped ones included */
  rows: number;
  dims: number;
  /** numpy dtype string of the file, e.g. "<f4" */
  dtype: string;
  fortranOrder: boolean;
  /** full array shape when it is not (rows, dims), e.g. (n, L, d) */
  shape?: number[];
  /** layer analysed, for (n, L, d) input */
  layer?: number;
  /** rows skipped for NaN/Inf (--drop-nonfinite) */
  droppedRows: number;
  /** all-zero rows, left out of the average cosine */
  zeroRows: number;
  /** shard files merged into this input (`isotropy merge`) */
  shards?: string[];
}

/** The metrics of one input under one transform ("none" = the input as it is). */
export interface TransformResult extends MomentMetrics {
  input: number;
  transform: 'none' | TransformName;
  /** I(W) of Mu & Viswanath; needs a second pass over the rows, null without one */
  partitionIsotropy: number | null;
  /** null with fewer than 2 non-zero rows, or for a transform when the rows were not reread */
  avgCosine: number | null;
  /** IsoBN's per-dimension factors (isobn, isobn-running only) */
  scale?: number[];
  /** the transform's parameters, defaults filled in (absent for "none") */
  params?: Record<string, number>;
}

/** What `isotropy analyze --json` prints. */
export interface Analysis {
  schema: typeof ANALYSIS_SCHEMA;
  inputs: InputInfo[];
  results: TransformResult[];
}
