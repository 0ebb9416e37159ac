import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { resolveRunDir } from '../report/files';
import { EXIT, UsageError, type Command, type CommandIo } from './command';

/** `xvc report`: a run's allure-results into Allure's HTML report, with the previous report's history carried forward. */
export const reportCommand: Command = {
  name: 'report',
  summary: "turn a run's Allure results into the Allure HTML report (allure-commandline)",
  help: [
    'Usage: xvc report [RUN_DIR] [--history REPORT_DIR] [--single-file] [--out DIR]',
    '',
    "Generates RUN_DIR/allure-report/ (default RUN_DIR: reports/latest) from RUN_DIR/allure-results/",
    'with allure-commandline, which needs a Java runtime (8 or later). The history of the previous',
    "run's report in the same reports folder (or of --history REPORT_DIR) is carried forward, so the",
    "report's trend charts span the runs. Open it with `npx allure open RUN_DIR/allure-report` (a",
    'browser cannot load it from file:// without a server), or make one self-contained index.html',
    'with --single-file (that report keeps no history for the next one).',
    '',
    'Options:',
    '  --history DIR   an Allure report whose history/ to carry forward (default: the previous run\'s)',
    '  --single-file   one index.html that opens from file:// (no history for later reports)',
    '  --out DIR       where the report goes (default RUN_DIR/allure-report)',
    '',
    'Exit codes: 0 done, 2 usage or no results, 3 Java or allure-commandline missing or failing.',
  ].join('\n'),
  async run(argv, io) {
    let values: { history?: string; 'single-file'?: boolean; out?: string };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({ args: [...argv], options: { history: { type: 'string' }, 'single-file': { type: 'boolean' }, out: { type: 'string' } }, allowPositionals: true, strict: true }));
    } catch (error) {
      throw new UsageError(`xvc report: ${(error as Error).message}`, { cause: error });
    }
    if (positionals.length > 1) throw new UsageError('xvc report: give at most one run folder');
    return generateReport({ runDir: positionals[0] ?? 'reports/latest', ...(values.history !== undefined ? { history: values.history } : {}), singleFile: values['single-file'] === true, ...(values.out !== undefined ? { out: values.out } : {}) }, io);
  },
};

/** What `xvc report` was asked to do. */
export type ReportRequest = { readonly runDir: string; readonly history?: string; readonly singleFile: boolean; readonly out?: string; readonly cwd?: string; readonly java?: string };

/** Java's install hint, by platform. */
export const JAVA_HINT = 'allure-commandline needs a Java runtime (8 or later) on PATH or in JAVA_HOME: on Debian or Ubuntu `sudo apt-get install default-jre-headless`, on macOS `brew install openjdk`, on Windows install a JDK from https://adoptium.net; the run\'s other reports (summary.json, junit.xml, compliance.*) need no Java';

/** The Java executable allure-commandline would use, or undefined when there is none. */
export function findJava(javaHome = process.env['JAVA_HOME']): string | undefined {
  const candidates = [...(javaHome ? [path.join(javaHome, 'bin', process.platform === 'win32' ? 'java.exe' : 'java')] : []), 'java'];
  for (const c of candidates) {
    const r = spawnSync(c, ['-version'], { stdio: 'ignore' });
    if (!r.error && r.status === 0) return c;
  }
  return undefined;
}

/** The folder of the run before `runDir` in its reports folder that has an Allure report, if any. */
function previousReport(runDir: string): string | undefined {
  const parent = path.dirname(runDir);
  const name = path.basename(runDir);
  const runs = fs.readdirSync(parent).filter((d) => d !== 'latest' && d < name && fs.existsSync(path.join(parent, d, 'allure-report', 'history'))).sort();
  const last = runs[runs.length - 1];
  return last === undefined ? undefined : path.join(parent, last, 'allure-report');
}

/** Generates the Allure report of a run; returns the exit code. */
export async function generateReport(req: ReportRequest, io: CommandIo): Promise<number> {
  const cwd = req.cwd ?? process.cwd();
  const given = path.resolve(cwd, req.runDir);
  const runDir = resolveRunDir(given);
  const results = path.join(runDir, 'allure-results');
  if (!fs.existsSync(results)) {
    io.stderr(`xvc report: ${path.relative(cwd, results) || results} does not exist; give a run folder written by xvc run (reports/<run-id>)\n`);
    return EXIT.invalidInput;
  }
  const java = req.java ?? findJava();
  if (java === undefined) {
    io.stderr(`xvc report: Java is not installed. ${JAVA_HINT}\n`);
    return EXIT.infrastructure;
  }
  const history = req.history !== undefined ? path.resolve(cwd, req.history) : previousReport(runDir);
  const historyIn = path.join(results, 'history');
  fs.rmSync(historyIn, { recursive: true, force: true });
  if (history !== undefined && fs.existsSync(path.join(history, 'history'))) fs.cpSync(path.join(history, 'history'), historyIn, { recursive: true });
  const out = path.resolve(cwd, req.out ?? path.join(runDir, 'allure-report'));
  const tmp = `${out}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const allure = path.join(path.dirname(require.resolve('allure-commandline/package.json')), 'dist', 'bin', process.platform === 'win32' ? 'allure.bat' : 'allure');
  const javaHome = path.dirname(path.dirname(fs.realpathSync(resolveOnPath(java) ?? java)));
  const r = spawnSync(allure, ['generate', results, '-o', tmp, '--clean', ...(req.singleFile ? ['--single-file'] : [])], { encoding: 'utf8', env: { ...process.env, JAVA_HOME: process.env['JAVA_HOME'] ?? javaHome }, shell: process.platform === 'win32' });
  fs.rmSync(historyIn, { recursive: true, force: true });
  if (r.error || r.status !== 0) {
    fs.rmSync(tmp, { recursive: true, force: true });
    io.stderr(`xvc report: allure-commandline failed${r.error ? `: ${r.error.message}` : ` (exit ${String(r.status)})`}\n${r.stderr ?? ''}${r.stdout ?? ''}`);
    return EXIT.infrastructure;
  }
  fs.rmSync(out, { recursive: true, force: true });
  fs.renameSync(tmp, out);
  io.stdout(`xvc report: ${path.relative(cwd, path.join(out, 'index.html'))}${history ? ` (history from ${path.relative(cwd, history) || history})` : ''}\n${req.singleFile ? 'open it in a browser' : `open it with: npx allure open ${path.relative(cwd, out)}`}\n`);
  return EXIT.ok;
}

/** An executable's full path on PATH (for JAVA_HOME), or undefined. */
function resolveOnPath(exe: string): string | undefined {
  if (path.isAbsolute(exe)) return exe;
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const full = path.join(dir, exe);
    if (fs.existsSync(full)) return full;
  }
  return undefined;
}
