'use strict';
/** Jest runs the JavaScript that `tsc -b` emits into build/ (npm test builds first; README "Set-up"). */
module.exports = {
  rootDir: __dirname,
  roots: ['<rootDir>/build'],
  testMatch: ['**/*.test.js'],
  testEnvironment: 'node',
  // Specs, vectors and golden files are read from the source tree, never from build/.
  watchPathIgnorePatterns: ['<rootDir>/reports/'],
};
