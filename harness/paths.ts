import * as fs from 'node:fs';
import * as path from 'node:path';

/** The package root (two levels above build/harness): specs/, vectors/, docs/ and package.json live here. */
export const PACKAGE_ROOT = path.resolve(__dirname, '../..');

/** The built-in corpus: the scenarios and the regression vectors. */
export const DEFAULT_SCENARIO_PATHS: readonly string[] = [path.join(PACKAGE_ROOT, 'specs'), path.join(PACKAGE_ROOT, 'vectors/regression')];

/**
 * What `xvc run` runs without paths: the built-in corpus, and the regression vectors `xvc fuzz`
 * saved under the working directory (its default --save folder) when that is another folder.
 */
export function defaultScenarioPaths(cwd: string): readonly string[] {
  const local = path.resolve(cwd, 'vectors/regression');
  return DEFAULT_SCENARIO_PATHS.includes(local) || !fs.existsSync(local) ? DEFAULT_SCENARIO_PATHS : [...DEFAULT_SCENARIO_PATHS, local];
}

/** The scenario JSON Schema shipped with the package. */
export const SCENARIO_SCHEMA_PATH = path.join(PACKAGE_ROOT, 'specs/scenario.schema.json');
