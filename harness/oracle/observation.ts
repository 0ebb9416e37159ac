import type { MachineEvent, TlbEntry, VcpuState, World } from '../sut/index';

/**
 * What a Xen guest can observe of one world after a step (docs/semantics.md "Observation"):
 * the vCPUs' run states and TLBs, the events since the previous observation (upcalls, returns of
 * blocked calls, shutdown) with their virtual times, the frames written since then, the console
 * output, and how the domain ended. Return values of calls are compared by the step itself.
 */
export type Observation = {
  readonly time: bigint;
  readonly vcpus: readonly { readonly state: VcpuState; readonly tlb: readonly TlbEntry[] }[];
  readonly events: readonly MachineEvent[];
  /** Frames written since the previous observation (the adapter's own frames left out). */
  readonly dirty: readonly number[];
  readonly consoleSize: number;
  readonly shutdown: { readonly reason: number; readonly time: bigint } | null;
};

/** Takes one world's observation; events and the written-frame set are drained. */
export function observe(world: Pick<World, 'machine' | 'privateFrames'>): Observation {
  const m = world.machine;
  return {
    time: m.clock.now,
    vcpus: m.vcpus.map((v) => ({ state: v.state, tlb: v.tlb.snapshot() })),
    events: m.takeEvents().filter((e) => e.kind !== 'vcpu-state'),
    dirty: m.memory.takeDirty().filter((gfn) => !world.privateFrames.has(gfn)),
    consoleSize: m.console.size,
    shutdown: m.shutdown,
  };
}
