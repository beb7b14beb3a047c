// The report page: self-contained (no resource from outside the file), escaped, complete.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Analysis } from '../../src/analyze/schema.ts';
import { escapeHtml, inlineScript, jsonForScript } from '../../src/report/escape.ts';
import { formatChange, formatFactor, formatNumber } from '../../src/report/format.ts';
import { IMAGE_PLACEHOLDER, browserBundles, shareImages } from '../../src/report/interactive.ts';
import { ReportError, renderReport } from '../../src/report/index.ts';
import { offlineLoader, tidySvg } from '../../src/report/render.ts';
import { METRICS, changeClass } from '../../src/report/summary-table.ts';
import { PAGE_CHARTS, fixtureAnalysis, layeredAnalysis } from './fixture.ts';

const HOSTILE = '<img src=x onerror=alert(1)>';
const HOSTILE_PATH = '/tmp/</script><script>alert(2)</script>\u2028.npy';

const plain = await fixtureAnalysis({ rows: 80, dims: 12, sample: 50 });
const hostile = await fixtureAnalysis({ rows: 80, dims: 12, sample: 50, labels: [HOSTILE, 'RoBERTa "quoted" & <b>bold</b>'], transforms: 'isobn,whiten' });
hostile.inputs[0].path = HOSTILE_PATH;
hostile.tool!.version = '0.1.0<script>';

const staticHtml = await renderReport(plain);
const interactiveHtml = await renderReport(hostile, { interactive: true });
const hostileStatic = await renderReport(hostile);

const REF_ATTRS = new Set(['src', 'href', 'xlink:href', 'action', 'formaction', 'poster', 'srcset', 'data', 'background']);
const SCRIPT = /<script\b[^>]*>[\s\S]*?<\/script>/gi;

/**
 * Every reference to a resource outside the page. In the markup (scripts cut out): each real
 * tag's src/href/xlink:href/action/formaction/poster/srcset/data/background attribute and every
 * CSS url(...) whose target is not a fragment (#id) or a data: URL, and any @import. Inside
 * scripts, where the bundles hold plenty of strings: a src=/href=/url( followed by an absolute
 * address (http:, https: or //), the only way inlined code could name a resource to load.
 * Escaped text such as `&lt;img src=x&gt;` is text, not a tag, and does not count.
 */
function externalRefs(html: string): string[] {
  const found: string[] = [];
  const local = (target: string) => /^(#|data:)/i.test(target);
  const markup = html.replace(SCRIPT, '');
  // tags parsed attribute by attribute, so that "src=x" inside a quoted value is not an attribute
  const attr = /\s+([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/y;
  for (const tag of markup.matchAll(/<[a-zA-Z][^\s/>]*/g)) {
    attr.lastIndex = tag.index! + tag[0].length;
    for (let m = attr.exec(markup); m; m = attr.exec(markup)) {
      const value = m[2] ?? m[3] ?? m[4];
      if (REF_ATTRS.has(m[1].toLowerCase()) && value !== undefined && !local(value)) found.push(`${m[1]}=${value}`);
    }
  }
  for (const m of markup.matchAll(/url\(\s*(["']?)([^)"']*)\1\s*\)/gi)) if (!local(m[2])) found.push(m[0]);
  for (const m of markup.matchAll(/@import\b[^;]*/gi)) found.push(m[0]);
  for (const script of html.match(SCRIPT) ?? []) {
    for (const m of script.matchAll(/(?:\b(?:src|href)\s*=|url\()\s*[\\"'`]*\s*(?:https?:|\/\/)[^\s"'`)]*/gi)) found.push(m[0]);
  }
  return found;
}

test('the reference check itself finds what it should and nothing else', () => {
  assert.equal(externalRefs('<img src="https://cdn/x.png"><a href=//evil.org>x</a><i style="background:url(http://a/b)">'), [
    'src=https://cdn/x.png', 'href=//evil.org', 'url(http://a/b)',
  ]);
  assert.equal(externalRefs('<text aria-label="Title \'&lt;img src=x&gt;\'" x="1">t</text><image  XLINK:HREF = \'x.png\' />'), ['XLINK:HREF=x.png']);
  assert.equal(externalRefs('<a href="#s">x</a><image xlink:href="data:image/png;base64,AA"/><g clip-path="url(#c1)">'), []);
  assert.equal(externalRefs('<script>var u = "https://example.org"; if (/^https?:/.test(x)) {}</script>'), []);
  assert.equal(externalRefs('<script>el.innerHTML = \'<img src="https://cdn/x.png">\'; s.src = "//cdn/y.js"</script>'), ['src="https://cdn/x.png', 'src = "//cdn/y.js']);
  assert.equal(externalRefs('<p>&lt;img src=x onerror=alert(1)&gt;</p>'), []);
  assert.equal(externalRefs('<style>@import "x.css";</style>'), ['@import "x.css"']);
});

test('the static page references nothing outside itself and runs no script', () => {
  assert.equal(externalRefs(staticHtml), []);
  assert.not.match(staticHtml, /<script/i);
  // the only web addresses: SVG namespace names, which are identifiers, never fetched
  assert.not.match(staticHtml.replace(/\sxmlns(?::\w+)?="http:\/\/www\.w3\.org\/[^"]*"/g, ''), /https?:\/\//);
  assert.not.match(staticHtml, /@font-face|<link\b|<iframe\b|<object\b|<embed\b/i);
  assert.match(staticHtml, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data: blob:; style-src 'unsafe-inline'; script-src 'none'/);
});

test('the interactive page inlines vega, vega-lite and vega-embed and still references nothing outside itself', () => {
  const bundles = browserBundles();
  assert.is(bundles.length, 3);
  for (const b of bundles) assert.ok(interactiveHtml.includes(b), 'bundle inlined verbatim (after escaping)');
  assert.match(interactiveHtml, /vegaEmbed\(/);
  assert.match(interactiveHtml, /script-src 'unsafe-inline' 'unsafe-eval'/);
  assert.equal(externalRefs(interactiveHtml), []);
  // only the bundles' own strings contain web addresses, never an attribute of the page
  const outsideScripts = interactiveHtml.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '');
  assert.not.match(outsideScripts.replace(/\sxmlns(?::\w+)?="http:\/\/www\.w3\.org\/[^"]*"/g, ''), /https?:\/\//);
  // one </script> per <script>: nothing in a bundle or the JSON closes its element early
  assert.is(interactiveHtml.match(/<script\b/g)!.length, interactiveHtml.match(/<\/script>/g)!.length);
});

test('the interactive page carries each figure\'s spec, and the heatmap images only once', () => {
  const json = /<script type="application\/json" id="report-specs">([\s\S]*?)<\/script>/.exec(interactiveHtml)![1];
  const specs = JSON.parse(json) as Record<string, unknown>;
  const figures = [...interactiveHtml.matchAll(/<figure class="chart" id="fig-([^"]+)"/g)].map((m) => m[1]);
  assert.equal(Object.keys(specs), figures);
  assert.ok(json.includes(IMAGE_PLACEHOLDER));
  assert.not.ok(json.includes('data:image/png'));
  const pngs = interactiveHtml.match(/data:image\/png;base64,/g)!.length;
  assert.is(pngs, interactiveHtml.match(/<image /g)!.length, 'each PNG once, in its static SVG');
});

test('hostile labels, paths and versions show as text: escaped in HTML, SVG and the inlined JSON', () => {
  for (const html of [hostileStatic, interactiveHtml]) {
    assert.not.ok(html.includes(HOSTILE), 'no raw <img ...>');
    assert.not.ok(html.includes('<script>alert'), 'no injected script');
    assert.not.ok(html.includes('<b>bold</b>'));
    assert.not.ok(html.includes('\u2028'), 'no raw line separator');
    assert.ok(html.includes(escapeHtml(HOSTILE)), 'the label is shown, escaped');
    assert.ok(html.includes('0.1.0&lt;script&gt;'));
    assert.ok(html.includes('RoBERTa &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;'));
  }
  // in the JSON, as \u escapes that parse back to the label
  const json = /<script type="application\/json" id="report-specs">([\s\S]*?)<\/script>/.exec(interactiveHtml)![1];
  assert.ok(json.includes('\\u003cimg src=x onerror=alert(1)\\u003e'));
  assert.ok(JSON.stringify(JSON.parse(json)).includes(HOSTILE));
});

test('jsonForScript and inlineScript: nothing can close the script element, the value parses back', () => {
  const v = { a: '</script><!-- \u2028\u2029 & >', b: [1, 'x'] };
  const s = jsonForScript(v);
  assert.not.match(s, /[<>&\u2028\u2029]/);
  assert.equal(JSON.parse(s), v);
  assert.is(inlineScript('a="</script>";b=/<\\/script>/;c="<!--"'), 'a="<\\/script>";b=/<\\/script>/;c="<\\!--"');
  assert.is(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('header: provenance of every input, the tool, a table of contents that matches the sections', () => {
  const inp = plain.inputs[0];
  for (const want of [inp.path, inp.sha256!, '&lt;f4', 'C (row-major)', '80 × 12', '0 with NaN/Inf', 'isotropy-toolkit 0.1.0', plain.tool!.date,
    'IsoBN (eps = 0.001, beta = 0.5)', 'whiten (keep = 12)', 'ABTT (remove = 1)', '50 rows, seed 7']) {
    assert.ok(staticHtml.includes(want), want);
  }
  const toc = [...staticHtml.matchAll(/<li><a href="#([^"]+)">/g)].map((m) => m[1]);
  const sections = [...staticHtml.matchAll(/<section id="([^"]+)">/g)].map((m) => m[1]);
  assert.equal(toc, sections);
  assert.equal(sections, ['summary', 'spread', 'correlations', 'spectrum', 'isobn', 'pca']);
  // figures are named, not numbered: "Figure 1" is the paper's, never ours
  assert.not.match(staticHtml, /<figcaption>Figure \d/);
  assert.match(staticHtml, /<figcaption>Spread of the per-dimension standard deviations \(the paper&#39;s Figure 1\)<\/figcaption>/);
  assert.match(staticHtml, /Rescaling leaves correlations unchanged/);
  assert.match(staticHtml, /@page \{ size: A4/);
  const figures = [...staticHtml.matchAll(/<figure class="chart" id="fig-([^"]+)">/g)].map((m) => m[1]);
  assert.equal(figures, PAGE_CHARTS);
  assert.is(staticHtml.match(/<svg /g)!.length, PAGE_CHARTS.length);
  // ids are unique on the page, however many charts have clip paths and gradients
  const ids = [...staticHtml.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  assert.is(new Set(ids).size, ids.length);
});

test('summary table: a row per metric with its reading, values and changes of every view', () => {
  for (const m of METRICS) assert.ok(staticHtml.includes(escapeHtml(m.read)), m.key);
  const isobn = plain.results.find((r) => r.transform === 'isobn')!;
  assert.ok(staticHtml.includes(`>${formatNumber(isobn.isoScore)}<`));
  assert.match(staticHtml, /<span class="change (better|worse)">[+−]\d/);
  assert.is(changeClass('higher', 0.1, 0.2), 'better');
  assert.is(changeClass('lower', 0.1, 0.2), 'worse');
  assert.is(changeClass('toward0', 0.5, -0.1), 'better');
  assert.is(changeClass('lower', 0.3, 0.3 + 1e-17), '');
  assert.is(changeClass(null, 1, 2), '');
  assert.is(changeClass('higher', null, 2), '');
});

test('summary table: one table, a column per view grouped under each input, changes from that input\'s before', async () => {
  const html = await renderReport(hostile);
  const table = /<table class="summary grouped">[\s\S]*?<\/table>/.exec(html)![0];
  assert.is(table.match(/<th scope="colgroup" colspan="3"/g)!.length, 2);
  assert.is((table.match(/<th scope="col" class="view/g) ?? []).length, 6);
  assert.ok(table.includes('RoBERTa &quot;quoted&quot;'));
  // I(W) changes are ratios
  const iw = /<th scope="row">I\(W\), partition isotropy<\/th>[\s\S]*?<\/tr>/.exec(table)![0];
  assert.match(iw, /<span class="change [a-z]*">[×/]/);
  assert.not.match(iw, /%</);
  // one table for several inputs
  assert.is(html.match(/<table class="summary/g)!.length, 1);
});

test('n/a: a value that could not be computed reads n/a with its reason on hover and under the table, never NaN', async () => {
  const a = await fixtureAnalysis({ rows: 40, dims: 6, transforms: 'isobn', secondPass: false, sample: 10 });
  a.results[1].isoScore = NaN;
  a.results[1].nullReasons = { isoScore: 'all eigenvalues are zero' };
  const html = await renderReport(a);
  assert.match(html, /<td class="num na" title="not computed: I\(W\) needs a second pass over the rows[^"]*">n\/a<sup>\d<\/sup><\/td>/);
  assert.match(html, /<td class="num na" title="all eigenvalues are zero">n\/a/);
  assert.match(html, /<li value="\d">n\/a: all eigenvalues are zero<\/li>/);
  assert.not.match(html, /NaN(?!\/Inf)/);
});

test('an analysis of several layers: the section across layers, the table and the glance chart by input and layer', async () => {
  const a = await layeredAnalysis({ rows: 50, dims: 8, layers: 3, labels: ['BERT', 'RoBERTa'], transforms: 'isobn', sample: 20 });
  const html = await renderReport(a);
  const sections = [...html.matchAll(/<section id="([^"]+)">/g)].map((m) => m[1]);
  assert.equal(sections, ['summary', 'spread', 'correlations', 'spectrum', 'layers', 'isobn', 'pca']);
  assert.match(html, /id="fig-layer-metrics"/);
  assert.match(html, /colspan="2" class="group group-start">RoBERTa, layer 2</);
  assert.match(html, /layers 0, 1, 2/);
});

test('numbers and changes read well', () => {
  assert.is(formatNumber(null), 'n/a');
  assert.is(formatNumber(NaN), 'n/a');
  assert.is(formatNumber(1234), '1,234');
  assert.is(formatNumber(0.0123456), '0.0123');
  assert.is(formatNumber(123.6), '124');
  assert.is(formatNumber(-2.5e-7), '−2.50e-7');
  assert.is(formatNumber(3.2e7), '3.20e7');
  assert.is(formatNumber(32012345.6), '3.20e7');
  assert.is(formatChange(0.1, 0.136), '+36%');
  assert.is(formatChange(2, 1.9), '−5.0%');
  assert.is(formatChange(1, 1.0003), '+0.03%');
  assert.is(formatChange(1e-17, 1e-4), '×1e13');
  // values that span orders of magnitude: a ratio, never -100%
  assert.is(formatChange(1e-3, 0.275, { ratio: true }), '×275');
  assert.is(formatChange(1e5, 0.01, { ratio: true }), '/1e7');
  assert.is(formatChange(2, 3, { ratio: true }), '×1.5');
  assert.is(formatChange(0.156, 5e-5), '/3,120');
  assert.is(formatChange(0.156, -5e-4), '−100%');
  assert.is(formatFactor(3.2e11), '3.2e11');
  assert.is(formatChange(0, 0.5), '+0.5');
  assert.is(formatChange(0.3, 0.3 + 1e-17), 'no change');
  assert.is(formatChange(null, 1), '');
});

test('an analysis without diagnostics: the spectrum and table, a note instead of each other figure', async () => {
  const bare: Analysis = { ...plain, diagnostics: undefined, samples: undefined };
  const html = await renderReport(bare);
  const figures = [...html.matchAll(/<figure class="chart" id="fig-([^"]+)">/g)].map((m) => m[1]);
  assert.equal(figures, ['metrics-glance', 'spectrum', 'cumulative-variance']);
  assert.match(html, /carries no per-dimension diagnostics/);
  assert.equal(externalRefs(html), []);
});

test('an analysis without IsoBN says how to get its factors', async () => {
  const a = await fixtureAnalysis({ rows: 40, dims: 6, transforms: 'whiten', sample: 20 });
  const html = await renderReport(a, { title: 'My <title>' });
  assert.match(html, /No IsoBN transform in this analysis/);
  assert.match(html, /<title>My &lt;title&gt;<\/title>/);
});

test('not an analysis: a ReportError a user can act on', async () => {
  for (const bad of [{}, { inputs: [], results: [] }, { inputs: [plain.inputs[0]], results: [{ ...plain.results[0], input: 3 }] }]) {
    try {
      await renderReport(bad as unknown as Analysis);
      assert.unreachable('should throw');
    } catch (e) {
      assert.instance(e, ReportError);
      assert.is((e as ReportError).isUserError, true);
    }
  }
});

test('charts load nothing: the Vega loader refuses every URL but data:', async () => {
  const loader = offlineLoader();
  for (const uri of ['https://example.org/x.png', 'file:///etc/passwd', 'x.csv']) {
    await loader.sanitize(uri, { context: 'image' }).then(() => assert.unreachable(uri), (e: Error) => assert.match(e.message, /refused/));
    await loader.load(uri).then(() => assert.unreachable(uri), (e: Error) => assert.match(e.message, /refused/));
  }
  assert.equal(await loader.sanitize('data:image/png;base64,AA', { context: 'image' }), { href: 'data:image/png;base64,AA' });
});

test('tidySvg: ids prefixed and renumbered with their references, coordinates rounded, text untouched', () => {
  const svg = '<svg><defs><clipPath id="clip7"><rect x="0.123456" width="10.06"/></clipPath></defs>'
    + '<g clip-path="url(#clip7)" opacity="0.45"><text transform="translate(1.26,2)">0.123456</text><use href="#clip7"/></g></svg>';
  assert.is(tidySvg(svg, 'c'), '<svg><defs><clipPath id="c-1"><rect x="0.1" width="10.1"/></clipPath></defs>'
    + '<g clip-path="url(#c-1)" opacity="0.45"><text transform="translate(1.3,2)">0.123456</text><use href="#c-1"/></g></svg>');
});

test('tidySvg: scatter points become <use> of one shared shape with the common attributes on the group', () => {
  const pt = (x: number, fill: string) => `<path transform="translate(${x},2)" d="M1,0A1,1,0,1,1,-1,0" fill="${fill}" opacity="0.5"/>`;
  const svg = `<g class="mark-symbol role-mark m" role="x">${pt(1, '#a')}${pt(2, '#b')}</g>`;
  assert.is(tidySvg(svg, 'p'), '<g class="mark-symbol role-mark m" role="x" fill-opacity="0.5"><defs><path id="p-s1" d="M1,0A1,1,0,1,1,-1,0"/></defs>'
    + '<use href="#p-s1" x="1" y="2" fill="#a"/><use href="#p-s1" x="2" y="2" fill="#b"/></g>');
  // points with a stroke keep their own elements
  const stroked = `<g class="mark-symbol role-mark m"><path transform="translate(1,2)" d="M0,0" stroke="#000"/><path transform="translate(2,2)" d="M0,0" stroke="#000"/></g>`;
  assert.is(tidySvg(stroked, 'p'), stroked);
});

test('shareImages: placeholders only when the spec\'s images are exactly the SVG\'s, in order', () => {
  const spec = { a: [{ url: 'data:image/png;base64,AAA' }, { url: 'data:image/png;base64,BBB' }], t: 'x' };
  const svg = '<image xlink:href="data:image/png;base64,AAA"/><image xlink:href="data:image/png;base64,BBB"/>';
  assert.equal(shareImages(spec, svg), { a: [{ url: `${IMAGE_PLACEHOLDER}0` }, { url: `${IMAGE_PLACEHOLDER}1` }], t: 'x' });
  assert.is(shareImages(spec, svg.split('/><')[0]), spec);
  const noImages = { t: 1 };
  assert.is(shareImages(noImages, svg), noImages);
});

test.run();
