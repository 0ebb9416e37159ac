import * as path from 'node:path';

/** The package root (two levels above build/harness): specs/, vectors/, docs/ and package.json live here. */
export const PACKAGE_ROOT = path.resolve(__dirname, '../..');

/** The built-in corpus: the scenarios and the regression vectors. */
export const DEFAULT_SCENARIO_PATHS: readonly string[] = [path.join(PACKAGE_ROOT, 'specs'), path.join(PACKAGE_ROOT, 'vectors/regression')];

/** The scenario JSON Schema shipped with the package. */
export const SCENARIO_SCHEMA_PATH = path.join(PACKAGE_ROOT, 'specs/scenario.schema.json');
