import { View, loader as vegaLoader, parse, type Loader, type LoggerInterface, type Spec as VgSpec } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Problems Vega-Lite or Vega reported while compiling or rendering a chart. */
export class ChartRenderError extends Error {
  override name = 'ChartRenderError';
}

/**
 * A Vega loader that loads nothing: charts carry their data inline and images as `data:` URLs,
 * so a reference to anything else (a file, the web) is a bug, never a fetch.
 */
export function offlineLoader(): Loader {
  const base = vegaLoader();
  const refuse = async (uri: string): Promise<never> => {
    throw new ChartRenderError(`report charts load nothing; refused "${uri.slice(0, 60)}"`);
  };
  return {
    ...base,
    load: refuse,
    http: refuse,
    file: refuse,
    sanitize: async (uri: string) => {
      if (!uri.startsWith('data:')) return refuse(uri);
      return { href: uri };
    },
  };
}

/** A logger that keeps what Vega-Lite/Vega log instead of printing it (Vega calls it unbound). */
function collectingLogger(sink: string[]): LoggerInterface {
  let level = 2;
  const logger: LoggerInterface = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error: (...args: unknown[]) => { sink.push(`error: ${args.map(String).join(' ')}`); return logger; },
    warn: (...args: unknown[]) => { sink.push(`warn: ${args.map(String).join(' ')}`); return logger; },
    info: () => logger,
    debug: () => logger,
  };
  return logger;
}

/** Compiles a Vega-Lite spec to Vega; `warnings` receives what Vega-Lite would have printed. */
export function toVega(spec: TopLevelSpec, warnings: string[] = []): VgSpec {
  return compile(spec, { logger: collectingLogger(warnings) }).spec;
}

/**
 * Renders a Vega-Lite spec to an SVG string on the server (Vega View, renderer "none", toSVG).
 *
 * The SVG is made stable and page-safe: its element ids (clip paths, gradients) are renamed to
 * `<idPrefix>-<n>` in order of appearance, so several charts can share one page and the same
 * analysis gives the same bytes; coordinates in attributes are rounded to 0.01 px.
 *
 * @param warnings  receives Vega-Lite's and Vega's warnings (default: dropped)
 * @throws ChartRenderError when Vega reports an error while rendering
 */
export async function renderSvg(spec: TopLevelSpec, idPrefix: string, warnings: string[] = []): Promise<string> {
  const vg = toVega(spec, warnings);
  const errors: string[] = [];
  const view = new View(parse(vg), { renderer: 'none', loader: offlineLoader(), logger: collectingLogger(errors), logLevel: 2 });
  try {
    const svg = await view.toSVG();
    const bad = errors.filter((e) => e.startsWith('error'));
    if (bad.length) throw new ChartRenderError(`${idPrefix}: ${bad.join('; ')}`);
    warnings.push(...errors);
    return tidySvg(svg, idPrefix);
  } finally {
    view.finalize();
  }
}

/** Attributes that hold coordinates in px, rounded to {@link PX_DIGITS} decimals. */
const COORD_ATTR = /\s(d|transform|x|y|x1|x2|y1|y2|width|height)="([^"]*)"/g;
/** 0.1 px: 0.03 mm on paper, invisible on screen, and a third fewer bytes in long paths. */
const PX_DIGITS = 1;

/**
 * Renames ids (see {@link renderSvg}), rounds coordinates, and writes scatter points compactly
 * ({@link compactSymbols}). Text content is never touched.
 */
export function tidySvg(svg: string, idPrefix: string): string {
  // Images' data: URLs (megabytes of base64 in a heatmap) are set aside so that the tag
  // rewriting below does not scan them; nothing in them is an id or a coordinate.
  const urls: string[] = [];
  const bare = svg.replace(/(href=")(data:[^"]{64,})"/g, (_, a: string, url: string) => `${a}\u0000${urls.push(url) - 1}"`);
  return tidyTags(bare, idPrefix).replace(/(href=")\u0000(\d+)"/g, (_, a: string, k: string) => `${a}${urls[Number(k)]}"`);
}

function tidyTags(svg: string, idPrefix: string): string {
  const ids = new Map<string, string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) if (!ids.has(m[1])) ids.set(m[1], `${idPrefix}-${ids.size + 1}`);
  const rename = (id: string) => ids.get(id) ?? id;
  // Most tags (a scatter's thousands of points) have no id or reference: checked before the regexes.
  const tidy = svg.replace(/<[^>]+>/g, (tag) => {
    let t = tag;
    if (t.includes('id="')) t = t.replace(/(\sid=")([^"]+)"/g, (_, a: string, id: string) => `${a}${rename(id)}"`);
    if (t.includes('url(#')) t = t.replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${rename(id)})`);
    if (t.includes('href="#')) t = t.replace(/(href=")#([^"]+)"/g, (_, a: string, id: string) => `${a}#${rename(id)}"`);
    return t.replace(COORD_ATTR, (_, name: string, value: string) => ` ${name}="${value.replace(/-?\d*\.\d+(?:e-?\d+)?/g, roundNumber)}"`);
  });
  return compactSymbols(tidy, idPrefix);
}

function roundNumber(text: string): string {
  const f = 10 ** PX_DIGITS;
  const v = Math.round(Number(text) * f) / f;
  return Object.is(v, -0) ? '0' : String(v);
}

/**
 * Writes each scatter's points as `<use href="#shape" x y/>` of one shared path, with the
 * attributes every point has in common (fill, opacity as fill-opacity, ...) moved to the group:
 * about 50 bytes a point instead of 150, the same picture. Groups whose points differ in shape,
 * or that draw strokes, are left as they are.
 */
export function compactSymbols(svg: string, idPrefix: string): string {
  let n = 0;
  return svg.replace(/(<g class="mark-symbol role-mark[^"]*"[^>]*)>((?:<path [^>]*\/>)+)<\/g>/g, (all, open: string, body: string) => {
    const fast = sameShapeUses(open, body, idPrefix, n + 1);
    if (fast) { n++; return fast; }
    const points = [...body.matchAll(/<path ([^>]*)\/>/g)].map((m) => new Map([...m[1].matchAll(/([a-z-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])));
    const at = points.map((p) => /^translate\(([^,]+),([^)]+)\)$/.exec(p.get('transform') ?? ''));
    if (points.length < 2 || at.some((m) => !m) || points.some((p) => p.has('stroke'))) return all;
    const common = new Map([...points[0]].filter(([k, v]) => k !== 'transform' && points.every((p) => p.get(k) === v)));
    const shape = common.get('d');
    if (shape === undefined) return all;
    const id = `${idPrefix}-s${++n}`;
    const groupAttrs = [...common].filter(([k]) => k !== 'd').map(([k, v]) => ` ${k === 'opacity' ? 'fill-opacity' : k}="${v}"`).join('');
    const uses = points.map((p, i) => {
      const own = [...p].filter(([k]) => k !== 'transform' && !common.has(k)).map(([k, v]) => ` ${k === 'opacity' ? 'fill-opacity' : k}="${v}"`).join('');
      return `<use href="#${id}" x="${at[i]![1]}" y="${at[i]![2]}"${own}/>`;
    }).join('');
    return `${open}${groupAttrs}><defs><path id="${id}" d="${shape}"/></defs>${uses}</g>`;
  });
}

/**
 * The common case of {@link compactSymbols}, fast: every point is `<path transform="translate(x,y)" REST/>`
 * with the same REST (shape, fill, opacity). Null when they are not.
 */
function sameShapeUses(open: string, body: string, idPrefix: string, k: number): string | null {
  const re = /<path transform="translate\(([^,"]+),([^)"]+)\)"([^>]*)\/>/g;
  let rest: string | null = null;
  let count = 0;
  let at = 0;
  const xy: string[] = [];
  for (let m = re.exec(body); m; m = re.exec(body)) {
    if (m.index !== at) return null;
    at = re.lastIndex;
    if (rest === null) rest = m[3];
    else if (m[3] !== rest) return null;
    xy.push(m[1], m[2]);
    count++;
  }
  if (at !== body.length || count < 2 || rest === null || rest.includes('stroke=')) return null;
  const attrs = [...rest.matchAll(/\s([a-z-]+)="([^"]*)"/g)];
  const shape = attrs.find((a) => a[1] === 'd');
  if (!shape || attrs.map((a) => a[0]).join('') !== rest) return null;
  const id = `${idPrefix}-s${k}`;
  const groupAttrs = attrs.filter((a) => a[1] !== 'd').map((a) => ` ${a[1] === 'opacity' ? 'fill-opacity' : a[1]}="${a[2]}"`).join('');
  let uses = '';
  for (let i = 0; i < xy.length; i += 2) uses += `<use href="#${id}" x="${xy[i]}" y="${xy[i + 1]}"/>`;
  return `${open}${groupAttrs}><defs><path id="${id}" d="${shape[2]}"/></defs>${uses}</g>`;
}
