import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkBoundaries, formatViolations, sourceFiles } from './boundaries';

/** The repository root, from build/harness/tools. */
const ROOT = path.resolve(__dirname, '../../..');

describe('module boundaries (shared/design.md section 2)', () => {
  test('the source tree keeps every rule', () => {
    const files = sourceFiles(ROOT, ['emulator', 'harness']).map((p) => ({ path: p, text: fs.readFileSync(path.join(ROOT, p), 'utf8') }));
    expect(files.length).toBeGreaterThan(20);
    const violations = checkBoundaries(files);
    if (violations.length > 0) throw new Error(formatViolations(violations));
  });

  test('an emulator file importing the harness is reported with the file, the import and the rule', () => {
    const violations = checkBoundaries([{ path: 'emulator/xen/bad.ts', text: "import { x } from '../../harness/sut/index';\n" }]);
    expect(formatViolations(violations)).toBe(
      [
        `emulator/xen/bad.ts: import '../../harness/sut/index' breaks the rule "emulator/ never imports harness/, specs/, vectors/ or reports/"`,
        'Did the project structure change? The rules live in harness/tools/deps.ts; change them there, with a reason.',
      ].join('\n'),
    );
  });

  test('harness code other than harness/sut importing the emulator is reported', () => {
    const violations = checkBoundaries([
      { path: 'harness/cli/abi.ts', text: "import { XenModel } from '../../emulator/xen/xenModel';\n" },
      { path: 'harness/sut/index.ts', text: "export * from '../../emulator/index';\n" },
    ]);
    expect(violations).toEqual([
      {
        file: 'harness/cli/abi.ts',
        specifier: '../../emulator/xen/xenModel',
        rule: 'only harness/sut/ imports the emulator; other harness code goes through harness/sut/index.ts',
      },
    ]);
  });

  test('the emulator stays pure: a Node.js module is reported, fast-check in a test is not', () => {
    const violations = checkBoundaries([
      { path: 'emulator/machine/clock.ts', text: "import * as fs from 'node:fs';\n" },
      { path: 'emulator/machine/clock.test.ts', text: "import fc from 'fast-check';\n" },
    ]);
    expect(violations.map((v) => `${v.file} ${v.specifier}`)).toEqual(['emulator/machine/clock.ts node:fs']);
  });

  test('worker code importing reporters is reported', () => {
    const violations = checkBoundaries([{ path: 'harness/run/worker/worker.ts', text: "import { junit } from '../../report/junit';\n" }]);
    expect(violations).toHaveLength(1);
    expect(violations[0]?.rule).toBe('worker code never imports harness/report/ or harness/cli/');
  });
});
