#!/usr/bin/env node
// Screenshot of a report page in headless Debian chromium (for the README): the top of the page,
// or all of it with --full.
//
//   node scripts/report-screenshot.mjs reports/glove-100d-5k.html docs/report.png [--width 900] [--height 1600] [--full]
//
// Needs /usr/bin/chromium (apt-get install -y chromium) and the playwright-core dev dependency.
// The page is opened from file:// with networking disabled, as the browser test does.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const [page, out] = args.filter((a, i) => !a.startsWith('--') && !['--width', '--height'].includes(args[i - 1]));
if (!page || !out) {
  process.stderr.write('usage: node scripts/report-screenshot.mjs REPORT.html OUT.png [--width 900] [--height 1600] [--full]\n');
  process.exit(2);
}
if (!existsSync('/usr/bin/chromium')) {
  process.stderr.write('report-screenshot: /usr/bin/chromium is missing (apt-get install -y chromium)\n');
  process.exit(1);
}
const width = flag('--width', 900);
const height = flag('--height', 1600);
const profile = mkdtempSync(join(tmpdir(), 'isotropy-shot-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'],
  viewport: { width, height },
});
try {
  const tab = await context.newPage();
  await tab.goto(pathToFileURL(resolve(page)).href, { waitUntil: 'load' });
  mkdirSync(dirname(resolve(out)), { recursive: true });
  await tab.screenshot({ path: out, fullPage: args.includes('--full') });
  process.stdout.write(`${out}\n`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
