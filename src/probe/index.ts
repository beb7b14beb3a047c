/**
 * `isotropy-toolkit/probe`: does IsoBN help a classifier trained on frozen embeddings? The API of
 * `isotropy probe`. Loads tfjs, so it is kept out of the main entry point.
 *
 * ```ts
 * import { probeFiles, formatProbe } from 'isotropy-toolkit/probe';
 * const result = await probeFiles('emb.npy', 'labels.txt', { isobn: true });
 * process.stdout.write(formatProbe(result));
 * ```
 */
export { probe, probeFiles, type ProbeOptions, type ProbeFilesOptions } from './probe.js';
export { PROBE_SCHEMA, PROBE_ISOTROPY_METRICS, type ProbeResult, type ProbeArm, type Summary, type ProbeIsotropyMetric } from './schema.js';
export { checkProbeResult } from './validate.js';
export { loadProbeInput, type ProbeInput, type ProbeInputOptions } from './load.js';
export { readLabels, encodeLabels, type LabelFormat, type LabelList, type EncodedLabels, type ReadLabelsOptions } from './labels.js';
export { stratifiedFolds } from './folds.js';
export { trainRun, type ProbeModel, type RunSpec, type RunResult, type ProbeData } from './train.js';
export { formatProbe } from './format.js';
export { ProbeError } from './errors.js';
