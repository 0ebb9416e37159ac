#!/usr/bin/env node
'use strict';
// The xvc command line. The TypeScript sources are compiled into build/ by `npm run build`
// (which `npm ci`, `npm start` and `npm test` run first).
let main;
try {
  ({ main } = require('../build/harness/cli/main.js'));
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND') {
    process.stderr.write('xvc: the harness is not built; run "npm run build" first.\n');
    process.exit(3);
  }
  throw error;
}
const io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  isTTY: Boolean(process.stderr.isTTY),
};
main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`xvc: internal error: ${error && error.stack ? error.stack : String(error)}\n`);
    process.exitCode = 3;
  },
);
