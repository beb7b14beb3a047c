/**
 * A probe result (`isotropy.probe/v1`) for the report's tests, without training anything: the
 * numbers of the README's GloVe x AFINN experiment, with per-run details cut short.
 */
import type { ProbeResult } from '../../src/probe/schema.ts';

const s = (mean: number, std: number) => ({ mean, std });
const iso = (isoScore: number, cv: number, rank: number, cos: number, iw: number, std = 0) => ({
  isoScore: s(isoScore, std), 'std.cv': s(cv, std), 'spectrum.effectiveRank': s(rank, std), avgCosine: s(cos, std), partitionIsotropy: s(iw, std),
});
const runs = [{ seed: 0, fold: 0, accuracy: 0.93, epochsToFinal: 30 }];

/** A fresh copy each call, so that tests may change it. */
export function probeFixture(): ProbeResult {
  return {
    schema: 'isotropy.probe/v1',
    input: { path: 'DIR/glove-afinn.npy', rows: 609, dims: 100 },
    labels: { path: 'DIR/glove-afinn.valence.txt', classes: [{ name: '<= 0', count: 313 }, { name: '> 0', count: 296 }], threshold: 0 },
    majority: 313 / 609,
    params: {
      folds: 5, seeds: 5, seed: 0, epochs: 50, batchSize: 32, learningRate: 0.001, hidden: 128,
      models: ['linear', 'mlp'], isobn: { momentum: 0.05, eps: 0.001, beta: 0.5 }, backend: 'cpu',
    },
    arms: [
      { model: 'linear', isobn: false, accuracy: s(0.925, 0.019), epochsToFinal: s(32.1, 10.8), curve: [0.5, 0.925], runs, isotropy: iso(0.354, 0.08691, 56.14, 0.3056, 0.002304) },
      {
        model: 'linear', isobn: true, accuracy: s(0.924, 0.019), epochsToFinal: s(31.1, 13.5), vsPlain: { mean: -0.001, std: 0.005, better: 3, worse: 4, same: 18 },
        curve: [0.5, 0.924], runs, isotropy: iso(0.383, 0.06759, 57.68, 0.2766, 0.003545, 0.001),
      },
      { model: 'mlp', isobn: false, accuracy: s(0.932, 0.02), epochsToFinal: s(6.8, 5.1), curve: [0.6, 0.932], runs, isotropy: iso(0.354, 0.08691, 56.14, 0.3056, 0.002304) },
      {
        model: 'mlp', isobn: true, accuracy: s(0.931, 0.02), epochsToFinal: s(6.4, 4.7), vsPlain: { mean: -0.001, std: 0.003, better: 1, worse: 3, same: 21 },
        curve: [0.6, 0.931], runs, isotropy: iso(0.383, 0.06722, 57.68, 0.277, 0.003525, 0.001),
      },
    ],
  };
}
