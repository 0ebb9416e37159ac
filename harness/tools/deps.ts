/**
 * The import rules of the project (shared/design.md section 2; style guide section 2), as a table
 * the boundary test enforces. Paths are relative to the repository root, with forward slashes.
 */
export type DepsRule = {
  /** Files the rule applies to (a path prefix). */
  readonly from: string;
  /** What the rule says, for the failure message. */
  readonly says: string;
  /** Whether importing `target` (a repository path, or a package name) breaks the rule. */
  readonly forbids: (target: ImportTarget, file: string) => boolean;
};

/** Where an import points: a file of the repository or a package. */
export type ImportTarget = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'package'; readonly name: string };

/** Packages the emulator may use: none at run time (it is pure); its tests may use these. */
const EMULATOR_TEST_PACKAGES = new Set(['fast-check']);

/** The rules, in the order they are checked. */
export const DEPS_RULES: readonly DepsRule[] = [
  {
    from: 'emulator/',
    says: 'emulator/ never imports harness/, specs/, vectors/ or reports/',
    forbids: (t) => t.kind === 'file' && /^(harness|specs|vectors|reports)\//.test(t.path),
  },
  {
    from: 'emulator/',
    says: 'emulator/ is pure: no Node.js modules and no packages (its tests may use fast-check)',
    forbids: (t, file) => t.kind === 'package' && !(file.endsWith('.test.ts') && EMULATOR_TEST_PACKAGES.has(t.name)),
  },
  {
    from: 'harness/',
    says: 'only harness/sut/ imports the emulator; other harness code goes through harness/sut/index.ts',
    forbids: (t, file) => t.kind === 'file' && t.path.startsWith('emulator/') && !file.startsWith('harness/sut/'),
  },
  {
    from: 'harness/run/worker/',
    says: 'worker code never imports harness/report/ or harness/cli/',
    forbids: (t) => t.kind === 'file' && /^harness\/(report|cli)\//.test(t.path),
  },
];
