#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import * as analyzeCmd from './commands/analyze.js';
import * as extractCmd from './commands/extract.js';
import * as mergeCmd from './commands/merge.js';
import * as probeCmd from './commands/probe.js';
import * as reportCmd from './commands/report.js';
import * as statsCmd from './commands/stats.js';
import * as transformCmd from './commands/transform.js';
import { quote } from '../index.js';
import { reportError, UsageError } from './errors.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const MODULES = [analyzeCmd, reportCmd, transformCmd, statsCmd, mergeCmd, extractCmd, probeCmd];
/** Every command's name, from the modules registered below (`analyze <files..>` -> `analyze`). */
const COMMANDS: readonly string[] = MODULES.map((m) => m.command.split(' ')[0]);

/** Edit distance (insertions, deletions, substitutions, adjacent swaps) between two short words. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The command `word` was probably meant to be (a typo, a prefix), or null. */
export function nearestCommand(word: string): string | null {
  const w = word.toLowerCase();
  const prefixed = COMMANDS.filter((c) => w.length >= 2 && c.startsWith(w));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | null = null, bestD = Infinity;
  for (const c of COMMANDS) {
    const dist = distance(w, c);
    if (dist < bestD) { bestD = dist; best = c; }
  }
  return bestD <= Math.max(1, Math.floor(w.length / 3)) ? best : null;
}

/** The `isotropy` command: a thin yargs layer over the library. */
export async function main(args: string[]): Promise<void> {
  try {
    const first = args[0];
    if (first !== undefined && !first.startsWith('-') && !COMMANDS.includes(first)) {
      const near = nearestCommand(first);
      throw new UsageError(`unknown command ${quote(first, 40)}${near ? `: did you mean \`isotropy ${near}\`?` : `: the commands are ${COMMANDS.join(', ')}`} (see \`isotropy --help\`)`);
    }
    await yargs(args)
      .scriptName('isotropy')
      .usage('$0 <command> [options]\n\nHow isotropic are your embeddings, and what does IsoBN do to them?')
      .command(analyzeCmd as never)
      .command(transformCmd as never)
      .command(statsCmd as never)
      .command(mergeCmd as never)
      .command(reportCmd as never)
      .command(extractCmd as never)
      .command(probeCmd as never)
      .demandCommand(1, 'name a command: analyze, report, transform, stats, merge, extract or probe')
      .strict()
      .version(pkg.version)
      .help()
      .alias('h', 'help')
      .wrap(Math.min(110, process.stdout.columns || 100))
      .fail((msg, err) => {
        // yargs calls this for its own parse errors (msg) and for errors thrown by handlers (err).
        throw err ?? new UsageError(`${msg} (see \`isotropy --help\`)`);
      })
      .parseAsync();
  } catch (err) {
    reportError(err);
  }
}

await main(hideBin(process.argv));
