import fc from 'fast-check';
import type { ViridianProfileName } from '../../sut/index';
import type { Scenario, Step } from '../../spec/scenario';
import { evtchnStep } from './evtchn';
import { grantSteps } from './grants';
import { guestSteps, peerEventSteps, timeSteps, tlbFills } from './guest';
import { memorySteps } from './memory';
import { miscSteps } from './misc';
import { mmuextSteps } from './mmuext';
import { multicallSteps } from './multicall';
import { schedSteps } from './sched';
import { vcpuSteps } from './vcpu';

/** The domain a generated case runs in. */
export type FuzzConfig = {
  readonly profile: ViridianProfileName;
  readonly vcpus: number;
  /** vCPUs online at boot (all when absent). */
  readonly online?: readonly number[];
  readonly xen: NonNullable<Scenario['xen']>;
};

/** A generated case: a domain and the guest's steps (each chunk a step or a few that belong together). */
export type FuzzCase = { readonly config: FuzzConfig; readonly chunks: readonly (readonly Step[])[] };

/** What the generator may choose from. */
export type CaseOptions = {
  /** The Viridian profiles cases run in. */
  readonly profiles: readonly ViridianProfileName[];
  /** At most this many chunks per case (default 24). */
  readonly maxChunks?: number;
};

const one = (a: fc.Arbitrary<Step>): fc.Arbitrary<readonly Step[]> => a.map((s) => [s]);

/**
 * The steps, weighted so that the sub-ops that set state up (binds, grants, timers) come often
 * enough for the ones that use it to find something, and so that time passes between them.
 */
export const chunk: fc.Arbitrary<readonly Step[]> = fc.oneof(
  { arbitrary: one(evtchnStep), weight: 7 },
  { arbitrary: one(guestSteps), weight: 5 },
  { arbitrary: tlbFills, weight: 2 },
  { arbitrary: one(timeSteps), weight: 5 },
  { arbitrary: one(peerEventSteps), weight: 3 },
  { arbitrary: schedSteps, weight: 3 },
  { arbitrary: one(vcpuSteps), weight: 3 },
  { arbitrary: mmuextSteps, weight: 2 },
  { arbitrary: one(grantSteps), weight: 3 },
  { arbitrary: multicallSteps, weight: 2 },
  { arbitrary: memorySteps, weight: 1 },
  { arbitrary: one(miscSteps), weight: 2 },
);

/**
 * The domain: mostly two vCPUs; sometimes one, three or four, or 65 and 66 (vCPUs at and past
 * the 64-bit processor mask); sometimes only vCPU 0 online. Every Xen profile, both guest
 * types, both builds, and a small port limit.
 */
export function configArbitrary(profiles: readonly ViridianProfileName[]): fc.Arbitrary<FuzzConfig> {
  return fc
    .record({
      profile: fc.constantFrom(...profiles),
      vcpus: fc.oneof({ arbitrary: fc.constant(2), weight: 5 }, { arbitrary: fc.constantFrom(1, 3, 4), weight: 2 }, { arbitrary: fc.constantFrom(65, 66), weight: 3 }),
      onlyBoot: fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: fc.constant(true), weight: 1 }),
      xenProfile: fc.constantFrom('xen-4.22', 'xen-4.18', 'xen-4.17'),
      guestType: fc.constantFrom('pv', 'pvhvm'),
      build: fc.constantFrom('debug', 'release'),
      maxEvtchnPort: fc.oneof({ arbitrary: fc.constant(undefined), weight: 6 }, { arbitrary: fc.constantFrom(7, 64, 4095), weight: 1 }),
    })
    .map((r) => ({
      profile: r.profile,
      vcpus: r.vcpus,
      ...(r.onlyBoot ? { online: [0] } : {}),
      xen: { profile: r.xenProfile, guestType: r.guestType, build: r.build, ...(r.maxEvtchnPort !== undefined ? { maxEvtchnPort: r.maxEvtchnPort } : {}) },
    }));
}

/** Generated cases. */
export function caseArbitrary(options: CaseOptions): fc.Arbitrary<FuzzCase> {
  return fc.record({ config: configArbitrary(options.profiles), chunks: fc.array(chunk, { minLength: 1, maxLength: options.maxChunks ?? 24, size: 'medium' }) });
}

/** The steps of a case, in order. */
export function stepsOf(c: FuzzCase): Step[] {
  return c.chunks.flat();
}

/** A case as a scenario (id and title chosen by the caller). */
export function caseScenario(c: FuzzCase, steps: readonly Step[], head: Pick<Scenario, 'id' | 'title' | 'refs'> & Partial<Pick<Scenario, 'tags' | 'provenance'>>): Scenario {
  return {
    ...head,
    profiles: [c.config.profile],
    xen: c.config.xen,
    setup: { vcpus: c.config.vcpus, ...(c.config.online ? { online: c.config.online } : {}) },
    steps,
  };
}
