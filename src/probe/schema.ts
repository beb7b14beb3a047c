/**
 * The `isotropy.probe/v1` document: what `isotropy probe --json` / `--out` write and the report
 * reads. Types and constants only (no tfjs), so that readers of saved results stay light.
 */

export const PROBE_SCHEMA = 'isotropy.probe/v1';

/** The classifiers the probe trains: softmax regression, or one ReLU hidden layer then softmax. */
export type ProbeModel = 'linear' | 'mlp';

/** Mean and biased (population) std over runs. */
export interface Summary {
  mean: number;
  std: number;
}

/** The isotropy metrics reported for a classifier's input (see the analysis for definitions). */
export const PROBE_ISOTROPY_METRICS = ['isoScore', 'std.cv', 'spectrum.effectiveRank', 'avgCosine', 'partitionIsotropy'] as const;
export type ProbeIsotropyMetric = (typeof PROBE_ISOTROPY_METRICS)[number];

/** One classifier, with or without IsoBN, over all seeds and folds. */
export interface ProbeArm {
  model: ProbeModel;
  isobn: boolean;
  /** held-out accuracy after the last epoch */
  accuracy: Summary;
  /** the first epoch whose held-out accuracy reaches the final one */
  epochsToFinal: Summary;
  /**
   * IsoBN runs only: accuracy with IsoBN minus accuracy without, run by run (same seed, fold,
   * initial weights and batch order), with how many runs it raised, lowered and left alone
   */
  vsPlain?: Summary & { better: number; worse: number; same: number };
  /** mean held-out accuracy after each epoch */
  curve: number[];
  runs: { seed: number; fold: number; accuracy: number; epochsToFinal: number }[];
  /**
   * isotropy of the classifier's input over all rows: the embeddings themselves without IsoBN
   * (std 0), else the trained IsoBN layer's output (inference scale), over the runs; null when
   * not computed or not defined
   */
  isotropy: Record<ProbeIsotropyMetric, Summary | null> | null;
}

/** What {@link probe} returns (`isotropy probe --json`). */
export interface ProbeResult {
  schema: typeof PROBE_SCHEMA;
  input: {
    path: string;
    /** rows the probe trained and tested on */
    rows: number;
    dims: number;
    /** the layer of an (n, L, d) file */
    layer?: number;
    /** rows left out for NaN/Inf (`dropNonfinite`); absent when none were */
    droppedRows?: number;
    /** rows left out because their word has no label (`labelWord`); absent when labels were not joined by word */
    unlabelledRows?: number;
  };
  labels: {
    path: string; classes: { name: string; count: number }[]; threshold?: number;
    /** the column or field of the labels file that holds the words the rows were joined on (`labelWord`) */
    joinedOn?: string;
  };
  /** accuracy of always answering the largest class */
  majority: number;
  params: {
    folds: number; seeds: number; seed: number; epochs: number; batchSize: number; learningRate: number; hidden: number;
    models: ProbeModel[]; isobn: { momentum: number; eps: number; beta: number } | null; backend: string;
  };
  arms: ProbeArm[];
}

