// The report in a real browser: Debian's chromium, headless, driven by playwright-core. Opens the
// static and the interactive page of a 3-input, 4-view comparison from file:// and checks that
// they load nothing, log no error, draw every chart with non-empty marks, that no two text labels
// of a chart overlap (boxes from the live DOM), and that the interactive charts come from
// vega-embed. Saves screenshots to test-artifacts/.
//
// Without /usr/bin/chromium (apt-get install -y chromium) the test fails when CI=true and is
// skipped with a line on stdout otherwise.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderReport } from '../../src/report/index.ts';
import { PAGE_CHARTS, fixtureAnalysis } from './fixture.ts';
import { probeFixture } from './probe-fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const HOSTILE = '<img src=x onerror=alert(1)>';
const CHARTS = PAGE_CHARTS;

const available = existsSync(CHROMIUM);
if (!available) {
  if (process.env.CI === 'true') {
    test('chromium is installed (CI)', () => {
      assert.unreachable(`${CHROMIUM} is missing: .ci/run installs it with apt-get install -y chromium`);
    });
  } else {
    console.log(`skipped: test/report/browser.test.ts needs ${CHROMIUM} (apt-get install -y chromium)`);
  }
} else {
  const work = mkdtempSync(join(tmpdir(), 'isotropy-report-browser-'));
  let context: BrowserContext;
  const files = { static: join(work, 'report.html'), interactive: join(work, 'report-interactive.html') };

  test.before(async () => {
    const analysis = await fixtureAnalysis({
      rows: 300, dims: 48, sample: 200, labels: ['BERT', 'RoBERTa', HOSTILE], transforms: 'isobn,whiten,abtt', rogue: [2, 3, 0],
    });
    // the static page also carries a probe section, with a hostile class name
    const probe = probeFixture();
    probe.labels.classes[0].name = HOSTILE;
    writeFileSync(files.static, await renderReport(analysis, { probe }));
    writeFileSync(files.interactive, await renderReport(analysis, { interactive: true }));
    context = await chromium.launchPersistentContext(join(work, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--disable-quic', '--no-first-run',
      ],
      viewport: { width: 900, height: 1200 },
      timeout: 20_000,
    });
  });

  test.after(async () => {
    await context?.close();
    rmSync(work, { recursive: true, force: true });
  });

  /** Opens a page and records everything it requests, logs as an error, or tries to pop up. */
  async function open(file: string) {
    const page: Page = await context.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    const dialogs: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load', timeout: 15_000 });
    return { page, requests, errors, dialogs };
  }

  function checkQuiet(r: { requests: string[]; errors: string[]; dialogs: string[] }) {
    const outside = r.requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'));
    assert.equal(outside, [], 'no network request');
    assert.equal(r.errors, [], 'no console error');
    assert.equal(r.dialogs, [], 'no script ran from a label');
  }

  /** Per chart: how many SVG elements it holds and the size of the largest one. */
  async function charts(page: Page) {
    return page.$$eval('.chart-body', (hosts) => hosts.map((h) => {
      const svgs = [...h.querySelectorAll('svg')].filter((s) => !s.closest('details'));
      const sizes = svgs.map((s) => s.getBoundingClientRect()).map((b) => b.width * b.height);
      return {
        id: h.getAttribute('data-chart'),
        svgs: svgs.length,
        marks: svgs.reduce((n, s) => n + s.querySelectorAll('path, use, rect, line, image, text').length, 0),
        area: Math.max(0, ...sizes),
        rendered: h.getAttribute('data-rendered'),
        embedded: h.querySelector('.vega-embed svg') !== null,
        staticLeft: h.querySelector('.static') !== null,
      };
    }));
  }

  test('static report: loads nothing, no console error, every chart drawn as a non-empty SVG', async () => {
    const r = await open(files.static);
    const found = await charts(r.page);
    assert.equal(found.map((c) => c.id), CHARTS);
    for (const c of found) {
      assert.is(c.svgs, 1, c.id!);
      assert.ok(c.marks > 20, `${c.id}: ${c.marks} marks`);
      assert.ok(c.area > 100 * 100, `${c.id}: ${c.area} px²`);
    }
    // the hostile label is text on the page, never an element
    assert.is(await r.page.locator('img').count(), 0);
    // the probe section: its two tables, as wide as the text column at most
    const probeTables = await r.page.$$eval('#probe table.probe', (ts) => ts.map((t) => t.getBoundingClientRect().width));
    assert.is(probeTables.length, 2);
    const column = await r.page.$eval('main', (m) => m.getBoundingClientRect().width);
    for (const w of probeTables) assert.ok(w <= column + 1, `probe table ${w} px wide in a ${column} px column`);
    assert.ok((await r.page.textContent('body'))!.includes(HOSTILE));
    // the heatmap images decode (a broken data: URL would have no natural size)
    const images = await r.page.$$eval('#chart-corr-heatmap image', (els) => els.length);
    assert.ok(images >= 2);
    checkQuiet(r);
    mkdirSync(ARTIFACTS, { recursive: true });
    await r.page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true, timeout: 15_000 });
    await r.page.close();
  });

  /**
   * Pairs of visible text labels of one chart whose boxes overlap by more than a sliver (2 px
   * across, 3 px down: the boxes include the font's line gap). Labels Vega hid to avoid overlaps
   * (opacity 0) do not count.
   */
  async function overlappingLabels(page: Page): Promise<string[]> {
    // a string, not a function: the test's compiler would wrap named functions in helpers the page lacks
    return page.evaluate(`(() => {
      const out = [];
      for (const h of document.querySelectorAll('.chart-body')) {
        const svg = [...h.querySelectorAll('svg')].find((s) => !s.closest('details'));
        if (!svg) continue;
        const hidden = (el) => {
          for (let e = el; e && e !== svg; e = e.parentElement) {
            if (e.getAttribute('opacity') === '0' || e.getAttribute('fill-opacity') === '0' || getComputedStyle(e).opacity === '0') return true;
          }
          return false;
        };
        const boxes = [...svg.querySelectorAll('text')]
          .filter((t) => (t.textContent || '').trim() !== '' && !hidden(t))
          .map((t) => ({ text: t.textContent.trim(), r: t.getBoundingClientRect() }))
          .filter((b) => b.r.width > 0 && b.r.height > 0);
        for (let i = 0; i < boxes.length; i++) {
          for (let j = i + 1; j < boxes.length; j++) {
            const a = boxes[i].r, b = boxes[j].r;
            const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
            const ht = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
            if (w > 2 && ht > 3) out.push(h.getAttribute('data-chart') + ': "' + boxes[i].text + '" overlaps "' + boxes[j].text + '" (' + w.toFixed(0) + ' x ' + ht.toFixed(0) + ' px)');
          }
        }
      }
      return out;
    })()`);
  }

  test('the overlap check finds overlapping labels and ignores hidden ones', async () => {
    const page = await context.newPage();
    await page.setContent(`<div class="chart-body" data-chart="t"><svg width="200" height="100">
      <text x="10" y="20" font-size="12">first label</text><text x="30" y="24" font-size="12">second label</text>
      <text x="10" y="60" font-size="12">alone</text><text x="12" y="62" font-size="12" opacity="0">hidden</text></svg></div>`);
    const found = await overlappingLabels(page);
    assert.is(found.length, 1, found.join('; '));
    assert.match(found[0], /"first label" overlaps "second label"/);
    await page.close();
  });

  test('static report: no two text labels of any chart overlap', async () => {
    const r = await open(files.static);
    assert.equal(await overlappingLabels(r.page), []);
    await r.page.close();
  });

  test('interactive report: every chart re-drawn by vega-embed from the inlined bundles, offline', async () => {
    const r = await open(files.interactive);
    const live = r.page.locator('[data-rendered="vega-embed"]');
    for (let t = Date.now(); (await live.count()) < CHARTS.length && Date.now() - t < 15_000;) await r.page.waitForTimeout(100);
    const found = await charts(r.page);
    assert.equal(found.map((c) => c.id), CHARTS);
    for (const c of found) {
      assert.is(c.rendered, 'vega-embed', `${c.id} rendered by vega-embed (console: ${r.errors.join('; ')})`);
      assert.ok(c.embedded, c.id!);
      assert.not.ok(c.staticLeft, `${c.id}: static SVG replaced`);
      assert.ok(c.marks > 20, `${c.id}: ${c.marks} marks`);
      assert.ok(c.area > 100 * 100, `${c.id}: ${c.area} px²`);
    }
    // the heatmap placeholders were filled from the static SVG: real PNGs in the live chart
    const hrefs = await r.page.$$eval('#chart-corr-heatmap image', (els) => els.map((e) => e.getAttribute('href') ?? e.getAttribute('xlink:href') ?? ''));
    assert.ok(hrefs.length >= 2 && hrefs.every((h) => h.startsWith('data:image/png;base64,')), hrefs.map((h) => h.slice(0, 30)).join(', '));
    assert.is(await r.page.locator('img').count(), 0);
    // a tooltip on hover: vega-embed's handler is live
    const point = r.page.locator('#chart-pca-scatter .vega-embed .mark-symbol path').first();
    await point.hover({ force: true, timeout: 5_000 });
    await r.page.locator('#vg-tooltip-element.visible').waitFor({ timeout: 5_000 });
    assert.match((await r.page.textContent('#vg-tooltip-element'))!, /PC1/);
    checkQuiet(r);
    await r.page.screenshot({ path: join(ARTIFACTS, 'report-interactive.png'), fullPage: true, timeout: 15_000 });
    await r.page.close();
  });
}

test.run();
