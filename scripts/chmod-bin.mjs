// tsc drops the executable bit; npm links bins itself, but a clone run as ./dist/cli/main.js needs it.
import { chmodSync } from 'node:fs';
chmodSync(new URL('../dist/cli/main.js', import.meta.url), 0o755);
