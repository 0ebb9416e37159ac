'use strict';
/** Jest runs the JavaScript that `tsc -b` emits into build/ (npm test builds first; README "Set-up"). */
module.exports = {
  rootDir: __dirname,
  roots: ['<rootDir>/build'],
  testMatch: ['**/*.test.js'],
  testEnvironment: 'node',
  // Jest's default on a 2-core machine is one worker; the suite is mostly CPU-bound and spawns
  // processes and threads that wait, so two keep both cores busy.
  maxWorkers: 2,
  // Specs, vectors and golden files are read from the source tree, never from build/.
  watchPathIgnorePatterns: ['<rootDir>/reports/'],
};
