import { formatDiagnostic } from '../spec/diagnostics';
import { corpusCoverage, type CorpusCoverage } from './corpus';

/*
 * The built-in corpus (specs/ and vectors/regression/) against vectors/coverage/catalog.json, as
 * `xvc coverage` computes it: every path the models implement is covered by some scenario, or
 * listed as unreachable with the reason. A new model path without a scenario fails here, with
 * the rows to cover; so does a scenario change that stops covering one.
 */

describe('coverage of the built-in corpus (xvc coverage)', () => {
  let coverage: CorpusCoverage;
  // One pass over the whole corpus in every profile it names (about 2,500 runs): a few seconds.
  beforeAll(() => {
    coverage = corpusCoverage();
  }, 120_000);

  test('the corpus loads without authoring errors', () => {
    expect(coverage.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(coverage.scenarios).toBeGreaterThan(800);
  });

  test('no catalog row is uncovered', () => {
    const uncovered = coverage.rows.filter((r) => r.state === 'uncovered').map((r) => `${r.area} ${r.item}`);
    if (uncovered.length > 0) {
      throw new Error(
        `${uncovered.length} catalog row(s) no scenario covers:\n  ${uncovered.join('\n  ')}\n` +
          'Hint: add a scenario under specs/ that reaches each path, or, if no scenario can, give the result an ' +
          '"unreachable" reason in vectors/coverage/catalog.json (run `xvc coverage` to see the report).',
      );
    }
    expect(coverage.rows.filter((r) => r.state === 'covered').length).toBeGreaterThan(900);
  });

  test('every unreachable row carries a reason', () => {
    const bare = coverage.rows.filter((r) => r.state === 'unreachable' && !(r.why ?? '').trim()).map((r) => `${r.area} ${r.item}`);
    expect(bare).toEqual([]);
  });
});
