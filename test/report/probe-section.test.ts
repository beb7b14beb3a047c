// The report's probe section (`renderReport(analysis, { probe })`): the accuracy and isotropy
// tables and how to read them, every string of the probe result escaped, and a bad result refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ProbeError, checkProbeResult } from '../../src/probe/index.ts';
import { escapeHtml } from '../../src/report/escape.ts';
import { renderReport } from '../../src/report/index.ts';
import { probeSectionHtml } from '../../src/report/probe-section.ts';
import { fixtureAnalysis } from './fixture.ts';
import { probeFixture } from './probe-fixture.ts';

const HOSTILE = '<img src=x onerror=alert(1)>';

/** The text of an HTML fragment, tags removed and entities of the report decoded. */
function text(html: string): string {
  return html.replace(/<[^>]+>/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ');
}

test('the section: what was probed, the accuracy table with the paired change, the isotropy table, how to read them', () => {
  const html = probeSectionHtml(probeFixture());
  const t = text(html);
  assert.match(t, 'frozen vectors of DIR/glove-afinn.npy : 609 rows × 100 dimensions');
  assert.match(t, 'numbers split at 0: 2 classes (<= 0: 313, > 0: 296)');
  assert.match(t, 'Always answering the largest class scores 51.4%');
  assert.is(html.match(/<table class="summary probe">/g)!.length, 2);
  // a row per classifier and IsoBN: accuracy and epochs mean ± std, the paired change in points and the run counts
  assert.match(t, 'linear no 92.5% ± 1.9% 32.1 ± 10.8');
  assert.match(t, 'linear yes 92.4% ± 1.9% 31.1 ± 13.5 −0.1 ± 0.5 3 / 4 / 18');
  assert.match(t, 'MLP yes 93.1% ± 2.0% 6.4 ± 4.7 −0.1 ± 0.3 1 / 3 / 21');
  assert.match(t, 'Held-out accuracy (mean ± std over 25 runs)');
  assert.match(t, '5-fold stratified cross-validation × 5 seeds (from 0), 50 epochs, batch 32, Adam with learning rate 0.001');
  assert.match(t, 'IsoBN layer: momentum 0.05, eps 0.001, beta 0.5');
  // the isotropy of the input: the vectors, then after IsoBN with the change, green towards isotropy
  assert.match(t, 'the vectors (no IsoBN) 0.354 0.0869 56.1 0.306 0.0023');
  assert.match(t, 'after IsoBN (linear runs) 0.383 ± 0.001 +8.2% 0.0676 ± 0.001 −22%');
  assert.match(html, /0\.383 ± 0\.001<span class="change better">\+8\.2%<\/span>/);
  assert.match(t, 'perfectly isotropic 1 0 d = 100 0 1');
  assert.match(t, 'How to read it.');
  assert.match(t, 'a paired difference, run by run');
});

test('without IsoBN arms or isotropy: no paired columns, and a note instead of the isotropy table', () => {
  const r = probeFixture();
  r.arms = [r.arms[0]];
  r.arms[0].isotropy = null;
  r.params.models = ['linear'];
  r.params.isobn = null;
  const html = probeSectionHtml(r);
  assert.not.match(html, 'IsoBN − no IsoBN, points');
  assert.not.match(html, 'IsoBN layer:');
  assert.not.match(html, 'MLP:');
  assert.is(html.match(/<table /g)!.length, 1);
  assert.match(html, /<p class="missing">The probe was run without the isotropy/);
});

test('the page: a last section in the contents, hostile strings of the probe shown as text, the same CSP', async () => {
  const analysis = await fixtureAnalysis({ rows: 40, dims: 6, sample: 20, transforms: 'isobn' });
  const r = probeFixture();
  r.input.path = `/tmp/${HOSTILE}</script>.npy`;
  r.labels.path = `"'><b>labels</b>`;
  r.labels.joinedOn = HOSTILE;
  r.labels.classes[0].name = HOSTILE;
  r.labels.classes[1].name = 'x'.repeat(500);
  r.params.backend = '<script>alert(2)</script>';
  const html = await renderReport(analysis, { probe: r });
  const sections = [...html.matchAll(/<section id="([^"]+)">/g)].map((m) => m[1]);
  assert.equal(sections, ['summary', 'spread', 'correlations', 'spectrum', 'isobn', 'pca', 'probe']);
  assert.match(html, '<li><a href="#probe">Does IsoBN help a classifier? (probe)</a></li>');
  assert.not.ok(html.includes(HOSTILE));
  assert.not.ok(html.includes('<script'));
  assert.not.ok(html.includes('<b>labels'));
  assert.ok(html.includes(escapeHtml(HOSTILE)));
  assert.ok(html.includes('<code>&quot;&#39;&gt;&lt;b&gt;labels&lt;/b&gt;</code>'));
  assert.ok(html.includes(`${'x'.repeat(59)}…: 296`), 'a long class name is cut');
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data: blob:; style-src 'unsafe-inline'; script-src 'none'/);
});

test('a bad probe result is refused: one line naming the document and the problem', async () => {
  const bad = (mutate: (r: any) => void) => {
    const r: any = probeFixture();
    mutate(r);
    return JSON.parse(JSON.stringify(r));
  };
  const cases: [unknown, RegExp][] = [
    [[1, 2], /p\.json: not a JSON object/],
    [bad((r) => { r.schema = 'isotropy.analysis/v1'; }), /schema "isotropy\.analysis\/v1" is not isotropy\.probe\/v1/],
    [bad((r) => { delete r.schema; }), /no "schema" field/],
    [bad((r) => { r.arms = []; }), /"arms" is missing or empty/],
    [bad((r) => { r.arms[1].accuracy.mean = NaN; }), /arms\[1\] lacks accuracy or epochsToFinal/],
    [bad((r) => { r.arms[0].model = '<svm>'; }), /arms\[0\] lacks model or isobn/],
    [bad((r) => { r.arms[1].vsPlain.better = 'many'; }), /arms\[1\]\.vsPlain is malformed/],
    [bad((r) => { r.arms[2].isotropy.avgCosine = 0.3; }), /arms\[2\]\.isotropy\["avgCosine"\] must be null or \{mean, std\}/],
    [bad((r) => { r.labels.classes[0].count = -1; }), /labels\.classes\[0\] lacks name or count/],
    [bad((r) => { r.majority = 2; }), /"majority" is not a share from 0 to 1/],
    [bad((r) => { r.params.folds = '5'; }), /"params\.folds" is not a whole number/],
    [bad((r) => { delete r.input.dims; }), /"input" lacks path, rows or dims/],
  ];
  for (const [value, re] of cases) {
    try {
      checkProbeResult(value, 'p.json');
      assert.unreachable(`accepted: ${re}`);
    } catch (e) {
      assert.instance(e, ProbeError);
      assert.match((e as Error).message, re);
      assert.match((e as Error).message, /expected the output of `isotropy probe --json`/);
      assert.not.match((e as Error).message, /\n/);
    }
  }
  assert.equal(checkProbeResult(JSON.parse(JSON.stringify(probeFixture())), 'p.json'), probeFixture());
  // renderReport checks its option with the same function, naming the option
  const analysis = await fixtureAnalysis({ rows: 20, dims: 4, sample: 0, transforms: 'isobn' });
  try {
    await renderReport(analysis, { probe: bad((r) => { r.arms = []; }) });
    assert.unreachable('rendered');
  } catch (e) {
    assert.instance(e, ProbeError);
    assert.match((e as Error).message, /^ReportOptions\.probe: "arms" is missing or empty/);
  }
});

test.run();
