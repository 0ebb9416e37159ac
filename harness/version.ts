import * as fs from 'node:fs';
import * as path from 'node:path';

/** The harness version, read once from package.json (two levels above build/harness). */
export const HARNESS_VERSION: string = (() => {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
})();
