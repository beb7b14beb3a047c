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
import { reportError, UsageError } from './errors.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The `isotropy` command: a thin yargs layer over the library. */
export async function main(args: string[]): Promise<void> {
  try {
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
