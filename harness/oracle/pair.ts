import {
  TranslatedWorld,
  XenWorld,
  VIRIDIAN_PROFILES,
  viridianAbi,
  type PeerRequest,
  type PeerResult,
  type TraceEntry,
  type WorldOptions,
  type XenCallResult,
  type XenHypercallArgs,
} from '../sut/index';
import { compareObservations, type Difference } from './compare';
import { observe, type Observation } from './observation';
import { checkWellFormed, type IllFormed } from './wellFormed';

/** One step run in both worlds: each world's answer, the differences, and what the adapter did. */
export type PairStep<T> = {
  readonly xen: T;
  readonly translated: T;
  readonly differences: readonly Difference[];
  readonly trace: readonly TraceEntry[];
  /** The adapter's Viridian operations of this step that are not well-formed under the TLFS and the profile. */
  readonly illFormed: readonly IllFormed[];
  /** Each world's observation after the step. */
  readonly observations: { readonly xen: Observation; readonly translated: Observation };
  /** Console bytes each world wrote during the step. */
  readonly console: { readonly xen: Uint8Array; readonly translated: Uint8Array };
};

/** The 100 ns grid of reference time on which the translated world's timers fire. */
const TICK = 100n;

/**
 * The two worlds side by side, driven by the same guest operations and compared under the
 * contract after each one (harness/oracle, docs/semantics.md).
 */
export class WorldPair {
  readonly xen: XenWorld;
  readonly translated: TranslatedWorld;
  private xenConsole = 0;
  private translatedConsole = 0;
  private readonly bare: boolean;

  /**
   * `bare: true` runs the two worlds without observing or comparing them (steps report no
   * differences): only to measure what the comparison costs (npm run bench).
   */
  constructor(options: WorldOptions & { readonly bare?: boolean } = {}) {
    this.bare = options.bare === true;
    // The translated world derives Xen's NOW() from the TSC; below 1 GHz a tick is longer than a
    // nanosecond and NOW() could not be exact (docs/semantics.md "Why these relations").
    if (options.clock?.tscHz !== undefined && options.clock.tscHz < 1_000_000_000n) {
      throw new RangeError(`a TSC of ${options.clock.tscHz} Hz is too slow for the world pair: the translated world needs at least 1 GHz to name every nanosecond`);
    }
    this.xen = new XenWorld(options);
    this.translated = new TranslatedWorld(options);
    // Both worlds' boots are the starting line, not a step.
    observe(this.xen);
    observe(this.translated);
    this.xenConsole = this.xen.machine.console.size;
    this.translatedConsole = this.translated.machine.console.size;
  }

  /** The current virtual time (the same in both worlds). */
  get now(): bigint {
    return this.xen.machine.clock.now;
  }

  /** A Xen hypercall from `vcpu` in both worlds; the return values must be equal. */
  hypercall(vcpu: number, nr: bigint, args: XenHypercallArgs): PairStep<XenCallResult> {
    const xen = this.xen.hypercall(vcpu, nr, args);
    const translated = this.translated.hypercall(vcpu, nr, args);
    const extra: Difference[] = [];
    if (xen.kind !== 'unimplemented' && !sameResult(xen, translated)) extra.push({ field: 'return value', relation: 'equal', xen: resultText(xen), translated: resultText(translated) });
    return this.finish(xen, translated, extra);
  }

  /** A guest store in both worlds, then the guest's return to normal execution (see {@link returnToGuest}). */
  write(gpa: number, bytes: Uint8Array, vcpu = 0): PairStep<boolean> {
    const a = this.xen.write(gpa, bytes) === undefined;
    const b = this.translated.write(gpa, bytes) === undefined;
    this.returnToGuest(vcpu);
    return this.finish(a, b, a === b ? [] : [{ field: 'guest store', relation: 'equal', xen: String(a), translated: String(b) }]);
  }

  /**
   * The guest's return to normal execution after stores: on `vcpu` if it is running, else on the
   * lowest running vCPU (a store is executed by a running vCPU); with none running, only the
   * memory changed.
   */
  private returnToGuest(vcpu: number): void {
    const vcpus = this.xen.machine.vcpus;
    const on = vcpus[vcpu]?.running ? vcpu : vcpus.findIndex((v) => v.running);
    if (on < 0 || this.xen.machine.shutdown) return;
    this.xen.returnToGuest(on);
    this.translated.returnToGuest(on);
  }

  /** Guest stores in both worlds without a step of their own (a call's arguments); compared with the next step. */
  place(gpa: number, bytes: Uint8Array): boolean {
    const a = this.xen.write(gpa, bytes) === undefined;
    const b = this.translated.write(gpa, bytes) === undefined;
    return a && b;
  }

  /** Several guest stores as one step (a guest's event handler), then the return to normal execution on `vcpu`. */
  stores(writes: readonly (readonly [number, Uint8Array])[], vcpu = 0): PairStep<boolean> {
    let ok = true;
    for (const [gpa, bytes] of writes) ok = this.place(gpa, bytes) && ok;
    this.returnToGuest(vcpu);
    return this.finish(ok, ok, []);
  }

  /** The guest touches a page on a vCPU in both worlds. */
  touch(vcpu: number, space: bigint, va: bigint, global: boolean): void {
    this.xen.touch(vcpu, space, va, global);
    this.translated.touch(vcpu, space, va, global);
  }

  /** The guest switches a vCPU's address space (CR3) in both worlds. */
  setSpace(vcpu: number, space: bigint): void {
    const x = this.xen.machine.vcpus[vcpu];
    const t = this.translated.machine.vcpus[vcpu];
    if (x) x.space = space;
    if (t) t.space = space;
  }

  /** A step with no action of its own (after touch / setSpace): compare now. */
  settle(): PairStep<null> {
    return this.finish(null, null, []);
  }

  /**
   * Moves both worlds to `ns`. When a Xen timer falls due in the last, partial 100 ns tick before
   * `ns`, both worlds move on to the end of that tick, where the translated world's timer
   * (rounded up to the tick) has fired too (docs/semantics.md "Time steps").
   */
  advanceTo(ns: bigint): PairStep<bigint> {
    let target = ns;
    const floor = (ns / TICK) * TICK;
    if (floor !== ns) {
      this.xen.advanceTo(floor > this.now ? floor : this.now);
      const next = this.xen.machine.clock.nextDeadline();
      if (next !== undefined && next <= ns) target = floor + TICK;
    }
    this.xen.advanceTo(target);
    this.translated.advanceTo(target);
    return this.finish(target, target, []);
  }

  /** A peer action in both worlds; the results must be equal. */
  peer(request: PeerRequest): PairStep<PeerResult> {
    const xen = this.xen.peer(request);
    const translated = this.translated.peer(request);
    return this.finish(xen, translated, sameJson(xen, translated) ? [] : [{ field: `peer ${request.op}`, relation: 'equal', xen: JSON.stringify(xen), translated: JSON.stringify(translated) }]);
  }

  /** dom0 sends on its port in both worlds. */
  peerSend(port: number): PairStep<PeerResult> {
    const xen = this.xen.peerSend(port);
    const translated = this.translated.peerSend(port);
    return this.finish(xen, translated, sameJson(xen, translated) ? [] : [{ field: 'peer send', relation: 'equal', xen: JSON.stringify(xen), translated: JSON.stringify(translated) }]);
  }

  private drain<T>(xen: T, translated: T): PairStep<T> {
    for (const w of [this.xen, this.translated]) {
      w.machine.takeEvents();
      w.machine.memory.takeDirty();
    }
    this.translated.takeTrace();
    const none = new Uint8Array(0);
    return { xen, translated, differences: [], trace: [], illFormed: [], observations: { xen: EMPTY_OBSERVATION, translated: EMPTY_OBSERVATION }, console: { xen: none, translated: none } };
  }

  private finish<T>(xen: T, translated: T, extra: Difference[]): PairStep<T> {
    if (this.bare) return this.drain(xen, translated);
    const ox = observe(this.xen);
    const ot = observe(this.translated);
    const xm = this.xen.machine;
    const tm = this.translated.machine;
    const crash = this.translated.viridian.crash;
    const profile = this.translated.viridian.profile;
    const reasonsExpressible = (profile.featuresEdx & viridianAbi.HV_FEATURES_EDX.HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE) !== 0;
    const xenConsole = xm.console.bytes().slice(this.xenConsole);
    const translatedConsole = tm.console.bytes().slice(this.translatedConsole);
    this.xenConsole = xm.console.size;
    this.translatedConsole = tm.console.size;
    const differences = [
      ...extra,
      ...compareObservations(ox, ot, {
        sharedInfoGfn: this.xen.xen.memoryMap.sharedInfoGfn,
        grantTableGfn: this.xen.xen.memoryMap.grantTableGfn,
        privateFrames: this.translated.privateFrames,
        xenPage: (gfn) => xm.memory.pageImage(gfn),
        translatedPage: (gfn) => tm.memory.pageImage(gfn),
        translatedShutdownReason: crash ? Number(crash.params[0] ?? 3n) : undefined,
        reasonsExpressible,
        xenConsole,
        translatedConsole,
      }),
    ];
    const trace = this.translated.takeTrace();
    return { xen, translated, differences, trace, illFormed: checkWellFormed(trace, profile), observations: { xen: ox, translated: ot }, console: { xen: xenConsole, translated: translatedConsole } };
  }
}

/** What a bare step keeps: nothing is observed; events, written frames and the trace are dropped so that memory stays flat. */
const EMPTY_OBSERVATION: Observation = { time: 0n, vcpus: [], events: [], dirty: [], consoleSize: 0, shutdown: null };

/** The profiles of the Viridian model by name (for tests that run every profile). */
export const PAIR_PROFILES = Object.keys(VIRIDIAN_PROFILES) as (keyof typeof VIRIDIAN_PROFILES)[];

function sameResult(a: XenCallResult, b: XenCallResult): boolean {
  if (a.kind !== b.kind) return false;
  return a.kind === 'returned' && b.kind === 'returned' ? a.value === b.value : true;
}

function resultText(r: XenCallResult): string {
  return r.kind === 'returned' ? `returned ${r.value}` : r.kind === 'blocked' ? 'blocked' : `unimplemented (${r.reason})`;
}

function sameJson(a: PeerResult, b: PeerResult): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
