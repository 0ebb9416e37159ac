import { DEFAULT_SCENARIO_PATHS } from '../paths';
import { executeRun, planRuns } from '../run/runner';
import { loadCorpus } from '../spec/load';
import type { Diagnostic } from '../spec/diagnostics';
import { coverageOf, loadCatalog, type Catalog, type Coverage } from './catalog';
import type { Fact } from './facts';

/** The coverage of a corpus: what `xvc coverage` reports, with the corpus's authoring errors. */
export type CorpusCoverage = Coverage & { readonly scenarios: number; readonly diagnostics: readonly Diagnostic[] };

/**
 * Runs every scenario under `paths` (default: specs/ and vectors/regression/) with the reference
 * adapter, in every profile it names, and compares what the runs exercised with the catalog.
 * These are the steps of `xvc coverage` (harness/cli/coverage.ts): load the corpus, plan the
 * runs, execute each collecting its facts, then coverageOf.
 */
export function corpusCoverage(paths: readonly string[] = DEFAULT_SCENARIO_PATHS, catalog: Catalog = loadCatalog()): CorpusCoverage {
  const corpus = loadCorpus(paths);
  const facts: Fact[] = [];
  for (const run of planRuns(corpus.scenarios)) executeRun(run, { reference: true, onFact: (f) => facts.push(f) });
  return { ...coverageOf(facts, catalog), scenarios: corpus.scenarios.length, diagnostics: corpus.diagnostics };
}
