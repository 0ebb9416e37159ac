import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { newRunId, pointLatest, resolveRunDir } from '../report/files';
import { MergeError, mergeRecords } from '../report/merge';
import { countsText, EventStreamError, exitCodeOfRecord, readEventStream, recordTotals, type RunRecord } from '../report/record';
import { writeRunReports } from '../report/write';
import { EXIT, UsageError, type Command, type CommandIo } from './command';

/** `xvc merge-reports`: the run folders of a sharded run into one run. */
export const mergeReportsCommand: Command = {
  name: 'merge-reports',
  summary: 'merge the run folders of a sharded run (--shard I/N) into one run with all its reports',
  help: [
    'Usage: xvc merge-reports RUN_DIR... [--out DIR]',
    '',
    'Reads each run folder\'s event stream (events.jsonl) and writes one run into DIR/<run-id>/',
    '(default DIR: reports; DIR/latest points at it) with every report a run writes: summary.json,',
    'junit.xml, events.jsonl, allure-results/ and compliance.{json,md,html}. They equal the reports',
    'of the same run made unsharded, apart from the run id, times and durations. Every shard 1..N',
    'must be given once, all written by the same xvc version for the same adapter and command.',
    '',
    'Options:',
    '  --out DIR   the reports folder to write the merged run into (default: reports)',
    '',
    'Exit codes: the merged run\'s (0 passed, 1 failures or regressions, 3 errors or interrupted);',
    '2 when the folders cannot be read or are not the shards of one run.',
    '',
    'Example (CI): each matrix job runs  xvc run --shard $I/3 --out shard-$I ; then',
    '  xvc merge-reports shard-1/latest shard-2/latest shard-3/latest --out reports',
  ].join('\n'),
  async run(argv, io) {
    let values: { out?: string };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({ args: [...argv], options: { out: { type: 'string' } }, allowPositionals: true, strict: true }));
    } catch (error) {
      throw new UsageError(`xvc merge-reports: ${(error as Error).message}`, { cause: error });
    }
    if (positionals.length === 0) throw new UsageError('xvc merge-reports: give the run folders to merge');
    return mergeReports({ dirs: positionals, ...(values.out !== undefined ? { out: values.out } : {}) }, io);
  },
};

/** What merge-reports was asked to do. */
export type MergeRequest = { readonly dirs: readonly string[]; readonly out?: string; readonly cwd?: string };

/** Merges run folders and writes the merged run; returns its exit code. */
export async function mergeReports(req: MergeRequest, io: CommandIo): Promise<number> {
  const cwd = req.cwd ?? process.cwd();
  const shards: { label: string; record: RunRecord }[] = [];
  try {
    for (const dir of req.dirs) {
      const runDir = resolveRunDir(path.resolve(cwd, dir));
      shards.push({ label: dir, record: readEventStream(path.join(runDir, 'events.jsonl')) });
    }
  } catch (error) {
    if (!(error instanceof EventStreamError)) throw error;
    io.stderr(`xvc merge-reports: ${error.message}\n`);
    return EXIT.invalidInput;
  }
  const reportsDir = path.resolve(cwd, req.out ?? 'reports');
  let record: RunRecord;
  try {
    record = mergeRecords(shards, newRunId(reportsDir, new Date()));
  } catch (error) {
    if (!(error instanceof MergeError)) throw error;
    io.stderr(`xvc merge-reports: ${error.message}\n`);
    return EXIT.invalidInput;
  }
  const runDir = path.join(reportsDir, record.meta.runId);
  writeRunReports(runDir, record);
  pointLatest(reportsDir, record.meta.runId);
  const t = recordTotals(record);
  if (record.gating) for (const k of record.gating.regressions) io.stdout(`x regression against ${record.gating.baseline}: ${k}\n`);
  io.stdout(
    `xvc merge-reports: ${shards.length} folders, ${t.runs} runs: ${countsText(t)}` +
      `${t.regressions > 0 ? `, ${t.regressions} regressions` : ''}${record.meta.interrupted ? ' (interrupted)' : ''}\nreports: ${path.relative(cwd, runDir) || runDir}\n`,
  );
  return exitCodeOfRecord(record);
}
