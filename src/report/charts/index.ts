import type { Analysis } from '../../analyze/schema.js';
import type { Chart } from './common.js';
import { corrHeatmapChart } from './corr-heatmap.js';
import { corrHistogramChart } from './corr-histogram.js';
import { cumulativeVarianceChart } from './cumulative-variance.js';
import { isobnFactorsChart } from './isobn-factors.js';
import { layerMetricsChart } from './layer-metrics.js';
import { metricsGlanceChart } from './metrics-glance.js';
import { pcaScatterChart } from './pca-scatter.js';
import { rogueDimsChart } from './rogue-dims.js';
import { spectrumChart } from './spectrum.js';
import { stdHistogramChart } from './std-histogram.js';
import { stdSortedChart } from './std-sorted.js';

/** A chart of the report: its id, the section it belongs to, and its builder. */
export interface ChartEntry {
  id: string;
  section: 'summary' | 'spread' | 'correlations' | 'spectrum' | 'layers' | 'isobn' | 'pca';
  build: (a: Analysis) => Chart | null;
  /** needs `analysis.diagnostics` (the per-dimension arrays) */
  needsDiagnostics: boolean;
}

/** Every chart of the report, in page order. */
export const CHARTS: readonly ChartEntry[] = [
  { id: 'metrics-glance', section: 'summary', build: metricsGlanceChart, needsDiagnostics: false },
  { id: 'std-histogram', section: 'spread', build: stdHistogramChart, needsDiagnostics: true },
  { id: 'rogue-dims', section: 'spread', build: rogueDimsChart, needsDiagnostics: true },
  { id: 'std-sorted', section: 'spread', build: stdSortedChart, needsDiagnostics: true },
  { id: 'corr-heatmap', section: 'correlations', build: corrHeatmapChart, needsDiagnostics: true },
  { id: 'corr-histogram', section: 'correlations', build: corrHistogramChart, needsDiagnostics: true },
  { id: 'spectrum', section: 'spectrum', build: spectrumChart, needsDiagnostics: false },
  { id: 'cumulative-variance', section: 'spectrum', build: cumulativeVarianceChart, needsDiagnostics: false },
  { id: 'layer-metrics', section: 'layers', build: layerMetricsChart, needsDiagnostics: false },
  { id: 'isobn-factors', section: 'isobn', build: isobnFactorsChart, needsDiagnostics: true },
  { id: 'pca-scatter', section: 'pca', build: pcaScatterChart, needsDiagnostics: true },
];
