// renderFigures: every chart as a standalone SVG with its caption, or only the charts asked for.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ReportError, figureHtml, renderFigures } from '../../src/report/index.ts';
import { PAGE_CHARTS, fixtureAnalysis } from './fixture.ts';

const analysis = await fixtureAnalysis({ rows: 60, dims: 8, sample: 30, transforms: 'isobn' });

test('every chart of the page, in page order, each a standalone SVG with a title and caption', async () => {
  const { figures } = await renderFigures(analysis, { png: false });
  assert.equal(figures.map((f) => f.id), PAGE_CHARTS);
  for (const f of figures) {
    assert.match(f.svg, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/, f.id);
    assert.ok(f.title.length > 0 && f.caption.length > 0, f.id);
    assert.is(f.png, undefined, `${f.id}: no PNG when png is false`);
    // for notebooks: the title, then the same SVG as an image (data URL), nothing else
    const m = /^<p><b>([^<]*)<\/b><\/p><img alt="([^"]*)" src="data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)">$/.exec(f.html);
    assert.ok(m, `${f.id}: html is a title and an <img>`);
    assert.is(m![1], m![2]);
    assert.is(Buffer.from(m![3], 'base64').toString('utf8'), f.svg, `${f.id}: the image is the SVG`);
  }
});

test('figureHtml escapes the title (text and attribute)', () => {
  const html = figureHtml('a "quoted" <b>title</b> & more', '<svg/>');
  assert.ok(html.startsWith('<p><b>a &quot;quoted&quot; &lt;b&gt;title&lt;/b&gt; &amp; more</b></p><img alt="a &quot;quoted&quot; &lt;b&gt;title&lt;/b&gt; &amp; more" src="data:image/svg+xml;base64,'));
  assert.ok(html.endsWith(`${Buffer.from('<svg/>').toString('base64')}">`));
});

test('only: the charts named, in page order whatever the order asked, drawn as without only', async () => {
  const all = await renderFigures(analysis, { png: false });
  const some = await renderFigures(analysis, { png: false, only: ['spectrum', 'std-histogram'] });
  assert.equal(some.figures.map((f) => f.id), ['std-histogram', 'spectrum']);
  for (const f of some.figures) assert.is(f.svg, all.figures.find((g) => g.id === f.id)!.svg, f.id);
  assert.equal((await renderFigures(analysis, { png: false, only: [] })).figures, []);
});

test('only: a chart the analysis cannot draw is left out; a name that is no chart is an error naming the charts', async () => {
  // one layer: no chart across layers, as on the page
  assert.equal((await renderFigures(analysis, { png: false, only: ['layer-metrics'] })).figures, []);
  try {
    await renderFigures(analysis, { only: ['spectrum', 'heatmap'] });
    assert.unreachable('an unknown chart id should throw');
  } catch (e) {
    assert.instance(e, ReportError);
    assert.match((e as Error).message, /no chart named "heatmap"; the charts are metrics-glance, std-histogram, .*corr-heatmap/);
  }
});

test.run();
