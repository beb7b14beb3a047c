import type { Analysis } from '../../analyze/schema.js';
import { facetViews, groupsOf, reportViews, sig, viewsOfGroup } from '../model.js';
import { FULL_WIDTH, colorByView, perInput, topLevel, zoomParam, type Chart, type Json } from './common.js';

/**
 * IsoBN's factors: the scale a_i of every dimension against its standard deviation s_i and its
 * mean squared correlation gamma_i = mean_j rho_ij^2, log-log, one colour per IsoBN view. Since
 * a_i is proportional to (gamma_i s_i + eps)^(-beta), dimensions with a large spread or strongly
 * correlated with the others get the smallest factors. Null when no IsoBN view carries its
 * ingredients.
 */
export function isobnFactorsChart(a: Analysis): Chart | null {
  const { views: all, note } = facetViews(reportViews(a).filter((v) => v.diag?.isobn && v.result.scale));
  if (!all.length) return null;
  const groups = groupsOf(all);
  const width = Math.round((FULL_WIDTH - 50) / 2);
  const datasets: Record<string, Json[]> = {};
  const blocks = groups.map((g, b): Json => {
    const views = viewsOfGroup(all, g.group);
    const name = `isobn_${b}`;
    datasets[name] = views.map((v) => {
      const { std, gamma } = v.diag!.isobn!;
      const scale = v.result.scale!;
      // log axes: a constant dimension (s_i = 0) cannot be placed
      const dims = std.map((_, i) => i).filter((i) => std[i] > 0 && gamma[i] > 0 && scale[i] > 0);
      return { view: v.name, dim: dims, s: dims.map((i) => sig(std[i])), gamma: dims.map((i) => sig(gamma[i])), a: dims.map((i) => sig(scale[i])) };
    });
    const y = { field: 'a', type: 'quantitative', title: 'IsoBN factor a_i (log scale)', scale: { type: 'log', nice: false, padding: 8 } };
    const tooltip = [{ field: 'view' }, { field: 'dim', title: 'dimension' }, { field: 's', title: 's_i', format: '.4g' }, { field: 'gamma', title: 'γ_i', format: '.4g' }, { field: 'a', title: 'a_i', format: '.4g' }];
    const panel = (x: Json, zoom: string): Json => ({
      width,
      height: 220,
      data: { name },
      transform: [{ flatten: ['dim', 's', 'gamma', 'a'] }],
      params: [zoomParam(zoom)],
      mark: { type: 'circle', size: 10, opacity: 0.6 },
      encoding: { x, y, color: colorByView(views), tooltip },
    });
    return {
      hconcat: [
        panel({ field: 's', type: 'quantitative', title: 'standard deviation s_i before (units of the embedding, log)', scale: { type: 'log', nice: false, padding: 8 } }, `zoom_isobn_s_${b}`),
        panel({ field: 'gamma', type: 'quantitative', title: 'γ_i = mean_j ρ_ij² (log scale)', scale: { type: 'log', nice: false, padding: 8 } }, `zoom_isobn_g_${b}`),
      ],
    };
  });
  return {
    id: 'isobn-factors',
    title: 'Which dimensions IsoBN penalizes, and why',
    caption:
      'Each point is one dimension. IsoBN multiplies dimension i by a_i ∝ (γ_i s_i + ε)^(−β) (then rescales all a_i so the '
      + 'total variance is kept): the product of the spread s_i (left) and of γ_i, how strongly the dimension is correlated with '
      + 'the others (right), decides, and the largest products get the smallest factors. A dimension with a large spread but '
      + 'uncorrelated with the rest can keep a large factor. γ_i is 1/d for a dimension uncorrelated with all others and 1 for '
      + 'one perfectly correlated with all. The running variant uses the estimates a training run would have.'
      + (note ? ` ${note}` : ''),
    spec: topLevel(perInput(blocks, groups.map((g) => g.label)), datasets),
  };
}
