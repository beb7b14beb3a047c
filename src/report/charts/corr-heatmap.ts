import type { Analysis } from '../../analyze/schema.js';
import { decodeRaster, facetViews, groupsOf, reportViews, viewsOfGroup, type ReportView } from '../model.js';
import { CORR_SCHEME, VIEW_STYLE, isRescaling } from '../palette.js';
import { maxPoolRaster, rasterPngUrl } from '../raster-png.js';
import { topLevel, type Chart, type Json } from './common.js';

/** Side of one heatmap panel, px, with two panels a row; three a row get 190. */
const PANEL = 270;
/**
 * Shades of the heatmap: steps of 1/31 in |rho|, finer than the eye separates along one hue, and
 * a third smaller than 256 shades at d = 1024.
 */
export const CORR_SHADES = 32;
/**
 * Largest raster side drawn at one pixel per pair; beyond it (d > 1024) blocks of pairs are
 * drawn by their largest |rho|, which keeps the page within a few MB.
 */
export const CORR_MAX_SIDE = 1024;
/** Most panels per row. */
const PER_ROW = 3;

/**
 * The views whose correlations differ from the input's: "before", and every view with its own
 * raster (a rotation such as whitening or ABTT). Rescaling views (IsoBN, standardize) have
 * exactly the input's correlations and are listed in `same` instead.
 */
export function distinctCorrViews(views: readonly ReportView[]): { distinct: ReportView[]; same: ReportView[] } {
  const distinct = views.filter((v) => v.diag && (v.kind === 'none' || v.diag.corrAbs !== null));
  const same = views.filter((v) => v.diag && v.kind !== 'none' && v.diag.corrAbs === null && isRescaling(v.kind));
  return { distinct, same };
}

function panel(v: ReportView, same: readonly ReportView[], url: string, dims: number, pixels: number, side: number): Json {
  const axisName = v.kind === 'whiten' ? 'principal axis' : 'dimension';
  const scale = { domain: [0, dims], nice: false, zero: false };
  const axis = { format: 'd', tickMinStep: 1, grid: false };
  return {
    title: {
      text: v.name,
      color: v.color,
      limit: side,
      ...(same.length ? { subtitle: `= ${same.map((s) => s.name).join(', ')}`, subtitleFontSize: 10 } : {}),
    },
    width: side,
    height: side,
    layer: [
      {
        data: { values: [{ x0: 0, x1: dims, y0: 0, y1: dims, url }] },
        // nearest-neighbour when the panel enlarges the raster, smooth when it shrinks it
        mark: { type: 'image', aspect: false, smooth: pixels > side },
        encoding: {
          x: { field: 'x0', type: 'quantitative', scale, axis: { ...axis, tickCount: side < 220 ? 4 : 6 }, title: `${axisName} j` },
          x2: { field: 'x1' },
          y: { field: 'y0', type: 'quantitative', scale: { ...scale, reverse: true }, axis, title: `${axisName} i` },
          y2: { field: 'y1' },
          url: { field: 'url', type: 'nominal' },
        },
      },
      {
        // draws nothing: gives the image its colour legend
        data: { values: [{ v: 0 }, { v: 1 }] },
        mark: { type: 'point', opacity: 0 },
        encoding: {
          color: {
            field: 'v', type: 'quantitative', scale: { scheme: CORR_SCHEME, domain: [0, 1] },
            legend: { title: '|ρ_ij|', orient: 'right', direction: 'vertical', gradientLength: side - 40 },
          },
        },
      },
    ],
  };
}

/**
 * The paper's Figure 2: |rho_ij| of every pair of dimensions as a d x d image (an indexed PNG in
 * the report's colour scheme, with axes and a colour legend), for the input and for every view
 * whose correlations differ from it. Null without diagnostics.
 */
export function corrHeatmapChart(a: Analysis): Chart | null {
  const { views: all, note } = facetViews(reportViews(a).filter((v) => v.diag));
  if (!all.length) return null;
  const rows: Json[] = [];
  const groups = groupsOf(all);
  let pooled = 1;
  for (const g of groups) {
    const { distinct, same } = distinctCorrViews(viewsOfGroup(all, g.group));
    const drawn = distinct.filter((v) => v.diag!.corrAbs);
    const perRow = Math.min(PER_ROW, Math.max(2, drawn.length));
    const side = perRow >= 3 ? 190 : PANEL;
    const panels = drawn.map((v) => {
      const raster = v.diag!.corrAbs!;
      const { bytes, side: pixels, factor } = maxPoolRaster(decodeRaster(raster), raster.dims, CORR_MAX_SIDE);
      pooled = Math.max(pooled, factor);
      return panel(v, v.kind === 'none' ? same : [], rasterPngUrl(bytes, pixels, CORR_SCHEME, CORR_SHADES), raster.dims, pixels, side);
    });
    for (let k = 0; k < panels.length; k += perRow) {
      const row: Json = { hconcat: panels.slice(k, k + perRow) };
      if (k === 0 && groups.length > 1) row.title = { text: g.label, fontSize: 12, anchor: 'start' };
      rows.push(row);
    }
  }
  if (!rows.length) return null;
  return {
    id: 'corr-heatmap',
    title: 'Correlations between dimensions (the paper\'s Figure 2)',
    caption:
      'Each pixel is |ρ_ij|, the absolute Pearson correlation of dimensions i and j (the diagonal is 1). An isotropic '
      + 'embedding is light everywhere but the diagonal; dark blocks and lines are groups of dimensions that move together. '
      + `${VIEW_STYLE.isobn.name} and standardize rescale each dimension, which leaves every correlation as it was, so they `
      + 'share the input\'s panel; only a rotation (whitening, ABTT) changes this picture. '
      + (pooled > 1
        ? `Each pixel stands for a block of ${pooled} x ${pooled} pairs and shows the largest |ρ_ij| in it, in ${CORR_SHADES} shades.`
        : `Drawn at one pixel per pair of dimensions, in ${CORR_SHADES} shades.`)
      + (note ? ` ${note}` : ''),
    spec: topLevel(rows.length === 1 ? rows[0] : { vconcat: rows }),
  };
}
