import { isFault, referenceAdapter, viridianAbi, xenAbi, type Adapter, type AdapterFactory, type AdapterHost, type ViridianGuest } from '../sut/index';

/*
 * Deliberately broken adapters: the reference adapter with one thing wrong, each through the
 * public adapter API (a changed host or a wrapped answer). The tests show that the contract
 * catches each one; the fuzzer tests use them too.
 */

const { HVCALL, HV_X64_MSR } = viridianAbi;
const { ReferenceAdapter } = referenceAdapter;

/** The reference adapter on a host whose Viridian guest view is changed by `change`. */
export function withViridian(change: (v: ViridianGuest) => Partial<ViridianGuest>): AdapterFactory {
  return (host: AdapterHost) => {
    const viridian: ViridianGuest = { ...host.viridian, ...change(host.viridian) } as ViridianGuest;
    return new ReferenceAdapter({ ...host, viridian });
  };
}

/** The reference adapter with its answers to Xen hypercalls changed by `change`. */
export function withAnswers(change: (nr: bigint, args: readonly bigint[], answer: ReturnType<Adapter['hypercall']>) => ReturnType<Adapter['hypercall']>): AdapterFactory {
  return (host: AdapterHost) => {
    const inner = new ReferenceAdapter(host);
    return {
      name: 'broken-answers',
      version: '0',
      privateFrames: inner.privateFrames,
      hypercall: (vcpu, nr, args) => change(nr, args, inner.hypercall(vcpu, nr, args)),
      interrupt: (vp, vector) => inner.interrupt(vp, vector),
      returnToGuest: (vcpu) => inner.returnToGuest(vcpu),
    };
  };
}

/** A timer rounded the wrong way: deadlines rounded down to the 100 ns tick, so timers fire up to 99 ns early. */
export const timerRoundedDown: AdapterFactory = (host) => new ReferenceAdapter(host, { timerRoundsDown: true });

/** A TLB flush that leaves out vCPUs 64 and above (a 64-bit processor mask where an Ex VP set was needed). */
export const flushDropsHighVps: AdapterFactory = (host) => new ReferenceAdapter(host, { flushDropsHighVps: true });

/** An event on a masked port delivered anyway: the selector bit set and the upcall raised. */
export const maskedEventDelivered: AdapterFactory = (host) => new ReferenceAdapter(host, { deliversMasked: true });

/**
 * A multicall that stops at the first entry whose result is an error (Xen runs every entry,
 * xen/common/multicall.c do_multicall). It runs the entries one at a time as one-entry multicalls
 * on the reference adapter and returns 0 after the first failing one.
 */
export const multicallStopsAtFailure: AdapterFactory = (host) => {
  const inner = new ReferenceAdapter(host);
  const entry = xenAbi.multicall_entry;
  const nrMulticall = BigInt(xenAbi.XenHypercall.multicall);
  return {
    name: 'broken-multicall',
    version: '0',
    privateFrames: inner.privateFrames,
    hypercall(vcpu, nr, args) {
      const count = BigInt.asUintN(32, args[1]);
      if (nr !== nrMulticall || count < 2n || count > 64n) return inner.hypercall(vcpu, nr, args);
      for (let i = 0n; i < count; i++) {
        const at = args[0] + i * BigInt(entry.size);
        const r = inner.hypercall(vcpu, nr, [at, 1n, 0n, 0n, 0n]);
        if (r.kind !== 'returned' || r.value !== 0n) return r;
        const result = host.memory.read64(Number(at) + entry.fields.result.offset);
        if (!isFault(result) && BigInt.asIntN(64, result) < 0n) break;
      }
      return { kind: 'returned', value: 0n };
    },
    interrupt: (vp, vector) => inner.interrupt(vp, vector),
    returnToGuest: (vcpu) => inner.returnToGuest(vcpu),
  };
};

/** Synthetic timer counts (and TSC deadlines) moved by `ticks` 100 ns units late. */
export function timerShifted(ticks: bigint): AdapterFactory {
  return withViridian((v) => ({
    wrmsr(vp, msr, value) {
      if (msr === HV_X64_MSR.HV_X64_MSR_STIMER0_COUNT && value > 0n) return v.wrmsr(vp, msr, value + ticks);
      if (msr === 0x6e0 && value > 0n) return v.wrmsr(vp, msr, value + ticks * 210n);
      return v.wrmsr(vp, msr, value);
    },
  }));
}

/** Flush hypercalls that never reach the hypervisor (and report success). */
export const flushForgotten: AdapterFactory = withViridian((v) => ({
  hypercall(vp, regs) {
    const code = Number(regs.rcx & 0xffffn);
    const rep = Number((regs.rcx >> 32n) & 0xfffn);
    if (code === HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE || code === HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST || code === HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX || code === HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX) {
      return { kind: 'result', value: BigInt(rep) << 32n, status: 0, repsCompleted: rep };
    }
    return v.hypercall(vp, regs);
  },
}));

/** HLT that does nothing: a blocked vCPU keeps running. */
export const neverHalts: AdapterFactory = withViridian(() => ({ halt: () => 'woken' as const }));

/** -EINVAL answered as -ENOSYS. */
export const wrongErrno: AdapterFactory = withAnswers((_nr, _args, answer) => (answer.kind === 'returned' && answer.value === -22n ? { kind: 'returned', value: -38n } : answer));

/** Hypercalls made with Xen's habit of setting bit 31 of the input value (fact sheet 11, item 14). */
export const nestedBitSet: AdapterFactory = withViridian((v) => ({
  hypercall: (vp, regs) => v.hypercall(vp, { ...regs, rcx: regs.rcx | 0x8000_0000n }),
}));
