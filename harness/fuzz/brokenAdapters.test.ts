import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AdapterFactory } from '../sut/index';
import { VIRIDIAN_PROFILE_NAMES } from '../sut/index';
import { flushDropsHighVps, maskedEventDelivered, multicallStopsAtFailure, timerRoundedDown, wrongErrno } from '../oracle/brokenAdapters';
import { loadScenarioFile } from '../spec/load';
import { runXenScenario } from '../run/xenRun';
import { runCampaign, replayCase } from './campaign';
import { regressionText, writeRegression } from './regression';

/*
 * Each deliberately broken adapter (harness/oracle/brokenAdapters.ts) is found by the fuzzer from
 * a fixed seed within a bounded number of cases, shrunk to a handful of steps, written as a
 * regression file that fails the same way when run as a scenario, and replayed from its seed
 * and path.
 */

const BROKEN: readonly (readonly [string, AdapterFactory])[] = [
  ['a timer rounded the wrong way (down to the 100 ns tick)', timerRoundedDown],
  ['a flush that forgets vCPUs at 64 and above', flushDropsHighVps],
  ['-EINVAL translated as -ENOSYS', wrongErrno],
  ['an event on a masked port delivered', maskedEventDelivered],
  ['a multicall that stops at the first failing entry', multicallStopsAtFailure],
];

/** The most cases a broken adapter may take to be found. */
const MAX_CASES = 1000;
/** The most steps a shrunk failure may keep. */
const MAX_STEPS = 6;

describe.each(BROKEN)('the fuzzer finds %s', (_what, adapter) => {
  const options = { profiles: VIRIDIAN_PROFILE_NAMES, reference: false, adapter, adapterName: 'broken' } as const;
  const result = runCampaign({ ...options, seed: 1, targets: ['xen'], runs: MAX_CASES });
  const failure = result.failures[0];

  test(`within ${MAX_CASES} cases, shrunk to at most ${MAX_STEPS} steps`, () => {
    expect(failure).toBeDefined();
    expect(result.cases.xen).toBeLessThanOrEqual(MAX_CASES);
    expect(failure?.steps).toBeLessThanOrEqual(MAX_STEPS);
    expect(failure?.shrinks).toBeGreaterThanOrEqual(0);
  });

  test('and the regression file fails the same way as a scenario', () => {
    if (!failure) throw new Error('no failure');
    expect(failure.reproduces).toBe(true);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xvc-regression-'));
    try {
      const file = writeRegression(dir, failure.hash, `${failure.target}-${failure.firstDifference}`, regressionText(failure.scenario, ['test'], '../scenario.schema.json'));
      const loaded = loadScenarioFile(file);
      expect(loaded.diagnostics).toEqual([]);
      const scenario = loaded.scenario;
      if (!scenario) throw new Error('not loaded');
      expect(scenario.scenario.provenance?.seed).toBe(String(failure.seed));
      const profile = failure.profile as (typeof VIRIDIAN_PROFILE_NAMES)[number];
      const broken = runXenScenario(scenario, { profile, reference: false, adapter });
      expect(broken.status).toBe('failed');
      expect(broken.failure?.field).toBe(failure.firstDifference);
      // The same file passes with the reference adapter: it pins the bug, not the scenario.
      expect(runXenScenario(scenario, { profile, reference: true }).status).toBe('passed');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('and its seed and path replay the failing case', () => {
    if (!failure) throw new Error('no failure');
    expect(replayCase('xen', failure.seed, failure.path, options).failed).toBe(true);
    expect(replayCase('xen', failure.seed, failure.path, { profiles: VIRIDIAN_PROFILE_NAMES, reference: true }).failed).toBe(false);
  });
});
