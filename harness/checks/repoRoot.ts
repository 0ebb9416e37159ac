import * as path from 'node:path';

/** The repository root, from build/harness/<folder>/. Specs, vectors and golden files are read from the source tree. */
export const REPO_ROOT = path.resolve(__dirname, '../../..');
