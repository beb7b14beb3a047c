import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { inlineScript } from './escape.js';

/** The browser bundles an interactive report inlines, in load order (vega-lite and vega-embed need vega). */
const BUNDLES = [
  { pkg: 'vega', file: 'vega.min.js' },
  { pkg: 'vega-lite', file: 'vega-lite.min.js' },
  { pkg: 'vega-embed', file: 'vega-embed.min.js' },
] as const;

let cache: string[] | null = null;

/**
 * The minified UMD builds of vega, vega-lite and vega-embed, found next to each package's entry
 * point through module resolution (the packages' "exports" do not expose the files themselves),
 * made safe to inline. Read once per process.
 */
export function browserBundles(): string[] {
  if (!cache) {
    const require = createRequire(import.meta.url);
    cache = BUNDLES.map(({ pkg, file }) => inlineScript(readFileSync(join(dirname(require.resolve(pkg)), file), 'utf8')));
  }
  return cache;
}

/**
 * What an image URL of a chart spec is replaced with when the same image is in the chart's static
 * SVG (k-th image: placeholder + k): the heatmaps are then inlined once, not twice. A `data:` URL
 * itself, so that if it were ever left in place it would load nothing.
 */
export const IMAGE_PLACEHOLDER = 'data:,static-image-';

/**
 * Replaces the `data:image/...` URLs of a spec by {@link IMAGE_PLACEHOLDER}s when they are, in
 * order, exactly the images of the chart's static SVG; otherwise returns the spec unchanged.
 */
export function shareImages(spec: unknown, svg: string): unknown {
  const inSvg = [...svg.matchAll(/<image [^>]*?href="(data:image\/[^"]+)"/g)].map((m) => m[1]);
  const inSpec: string[] = [];
  const walk = (node: unknown, f: (url: string) => string): unknown => {
    if (typeof node === 'string') return node.startsWith('data:image/') ? f(node) : node;
    if (Array.isArray(node)) return node.map((x) => walk(x, f));
    if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, f)]));
    return node;
  };
  walk(spec, (url) => { inSpec.push(url); return url; });
  if (!inSpec.length || inSpec.length !== inSvg.length || inSpec.some((u, k) => u !== inSvg[k])) return spec;
  let k = 0;
  return walk(spec, () => `${IMAGE_PLACEHOLDER}${k++}`);
}

/**
 * The page script of an interactive report: embeds each chart's Vega-Lite spec with vega-embed
 * (SVG renderer, tooltips, wheel zoom where the chart has it) next to its static SVG, and removes
 * the static SVG once the live chart is drawn. Charts that fail keep their static SVG. Image
 * placeholders ({@link shareImages}) are filled in from the static SVG first.
 */
export const EMBED_SCRIPT = `(function () {
  var specs = JSON.parse(document.getElementById('report-specs').textContent);
  var placeholder = ${JSON.stringify(IMAGE_PLACEHOLDER)};
  function images(host) {
    return Array.prototype.map.call(host.querySelectorAll('.static image'), function (im) {
      return im.getAttribute('href') || im.getAttribute('xlink:href');
    });
  }
  function fill(node, urls) {
    if (typeof node === 'string') {
      var k = node.indexOf(placeholder) === 0 ? Number(node.slice(placeholder.length)) : NaN;
      return k >= 0 && k < urls.length ? urls[k] : node;
    }
    if (Array.isArray(node)) return node.map(function (x) { return fill(x, urls); });
    if (node && typeof node === 'object') {
      var out = {};
      Object.keys(node).forEach(function (k) { out[k] = fill(node[k], urls); });
      return out;
    }
    return node;
  }
  var options = { mode: 'vega-lite', renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } };
  Object.keys(specs).forEach(function (id) {
    var host = document.getElementById('chart-' + id);
    if (!host) return;
    var live = host.querySelector('.live');
    vegaEmbed(live, fill(specs[id], images(host)), options).then(function () {
      var old = host.querySelector('.static');
      if (old) old.remove();
      host.setAttribute('data-rendered', 'vega-embed');
    }).catch(function (e) { console.error('chart ' + id + ': ' + (e && e.message ? e.message : e)); });
  });
})();`;
