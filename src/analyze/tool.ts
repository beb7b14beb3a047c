import { readFileSync } from 'node:fs';

let cached: { name: string; version: string } | null = null;

/** Name and version of this package and the current time (ISO 8601), for provenance. */
export function toolInfo(): { name: string; version: string; date: string } {
  // Two levels below the package root both in src/ (tsx) and in dist/.
  cached ??= JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
  return { name: cached.name, version: cached.version, date: new Date().toISOString() };
}
