import { parseArgs } from 'node:util';
import { DEFAULT_SCENARIO_PATHS } from '../paths';
import type { CoverageRow } from '../coverage/catalog';
import { corpusCoverage } from '../coverage/corpus';
import { formatDiagnostic } from '../spec/diagnostics';
import { toJson } from '../report/summary';
import { EXIT, UsageError, type Command } from './command';

/** `xvc coverage`. */
export const coverageCommand: Command = {
  name: 'coverage',
  summary: 'which hypercalls, sub-ops, error paths, status codes and MSRs the corpus covers',
  help: [
    'Usage: xvc coverage [PATH...] [--json] [--all]',
    '',
    'Runs the scenarios under PATH (default: specs/ and vectors/regression/) with the reference adapter',
    'in every profile they name and compares what they exercised with the catalog of paths the models',
    'implement (vectors/coverage/catalog.json): each Xen hypercall x sub-op x result (ok, each errno,',
    'each grant status), each Viridian call code x status, each synthetic MSR x profile. A path no',
    'scenario can reach is listed with the reason. Prints the uncovered paths and the totals; --all',
    'prints every row.',
    '',
    'Options:',
    '  --json   one JSON object: {"formatVersion": 1, "totals": {...}, "rows": [...], "extra": [...]}',
    '  --all    list covered and unreachable rows too',
    '',
    'Exit codes: 0 done (uncovered paths are reported, not an error), 2 invalid scenarios or usage.',
  ].join('\n'),
  async run(argv, io) {
    let values: { json?: boolean; all?: boolean };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({ args: [...argv], options: { json: { type: 'boolean' }, all: { type: 'boolean' } }, allowPositionals: true, strict: true }));
    } catch (error) {
      throw new UsageError(`xvc coverage: ${(error as Error).message}`, { cause: error });
    }
    const coverage = corpusCoverage(positionals.length > 0 ? positionals : DEFAULT_SCENARIO_PATHS);
    for (const d of coverage.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
    const totals = (area: CoverageRow['area']) => {
      const rows = coverage.rows.filter((r) => r.area === area);
      return { total: rows.length, covered: rows.filter((r) => r.state === 'covered').length, unreachable: rows.filter((r) => r.state === 'unreachable').length, uncovered: rows.filter((r) => r.state === 'uncovered').length };
    };
    const summary = { xen: totals('xen'), viridian: totals('viridian'), msr: totals('msr') };
    if (values.json) {
      io.stdout(toJson({ formatVersion: 1, scenarios: coverage.scenarios, totals: summary, rows: coverage.rows, extra: coverage.extra }));
    } else {
      for (const r of coverage.rows) {
        if (r.state === 'uncovered' || values.all) io.stdout(`${r.state.padEnd(11)} ${r.area.padEnd(8)} ${r.item}${r.why ? `  -- ${r.why}` : ''}\n`);
      }
      if (coverage.extra.length > 0 && values.all) for (const e of coverage.extra) io.stdout(`extra       ${e}  -- exercised but not in the catalog\n`);
      const line = (name: string, t: ReturnType<typeof totals>) => `${name}: ${t.covered}/${t.total} covered, ${t.unreachable} unreachable (with reasons), ${t.uncovered} uncovered`;
      io.stdout(`xvc coverage: ${coverage.scenarios} scenarios\n  ${line('Xen hypercall x sub-op x result', summary.xen)}\n  ${line('Viridian call x status', summary.viridian)}\n  ${line('MSR x profile', summary.msr)}\n`);
    }
    return coverage.diagnostics.length > 0 ? EXIT.invalidInput : EXIT.ok;
  },
};
