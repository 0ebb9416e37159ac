import fc from 'fast-check';
import type { Step } from '../../spec/scenario';
import { duration, issuer, likelyPort, port, space, tlbVcpu, u64, va } from './values';

/*
 * What the guest does between hypercalls (docs/scenarios.md "Xen-level steps"): its stores to
 * the event bitmaps and evtchn_upcall_mask, a Linux-like event handler, TLB fills and address
 * space switches; time passing; and dom0's event channel actions.
 */

const somePort = fc.oneof({ arbitrary: likelyPort, weight: 3 }, { arbitrary: port, weight: 1 });

export const guestSteps: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: somePort.map((p) => ({ mask: p })), weight: 3 },
  { arbitrary: somePort.map((p) => ({ unmask: p })), weight: 2 },
  { arbitrary: somePort.map((p) => ({ clearPending: p })), weight: 1 },
  { arbitrary: fc.tuple(fc.constantFrom<0 | 1>(0, 1), issuer).map(([m, vcpu]) => ({ upcallMask: m, ...(vcpu ? { vcpu } : {}) })), weight: 3 },
  { arbitrary: issuer.map((vcpu) => ({ handleUpcall: true, ...(vcpu ? { vcpu } : {}) })), weight: 2 },
  { arbitrary: fc.tuple(va, fc.boolean(), tlbVcpu, fc.option(space, { nil: undefined })).map(([v, global, vcpu, sp]) => ({ touch: { va: v, ...(global ? { global } : {}), ...(sp !== undefined ? { space: sp } : {}) }, ...(vcpu ? { vcpu } : {}) })), weight: 3 },
  { arbitrary: fc.tuple(space, issuer).map(([sp, vcpu]) => ({ setSpace: sp, ...(vcpu ? { vcpu } : {}) })), weight: 1 },
  { arbitrary: fc.tuple(fc.constantFrom(0, 8, 64, 72, 0x800, 0x880, 0x881, 0xa00), u64).map(([off, value]) => ({ store: { at: `$shared_info+${off}`, u64: value } })), weight: 1 },
);

/**
 * TLB fills on several vCPUs at once (the ones around the 64-bit mask boundary among them), so
 * that a flush that misses one of them leaves an entry the comparison sees.
 */
export const tlbFills: fc.Arbitrary<readonly Step[]> = fc
  .tuple(va, fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }), fc.uniqueArray(tlbVcpu, { minLength: 1, maxLength: 4 }))
  .map(([v, global, vcpus]) => vcpus.map((vcpu) => ({ touch: { va: v, ...(global ? { global } : {}) }, ...(vcpu ? { vcpu } : {}) })));

export const timeSteps: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: duration.map((d) => ({ advance: d })), weight: 6 },
  { arbitrary: fc.constantFrom('$now+1', '$now+100', '$now+1000000', '$now+1000000001').map((t) => ({ advanceTo: t })), weight: 1 },
);

export const peerEventSteps: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.constantFrom(1, 1, 0, 7).map((remoteDom) => ({ peer: { op: 'allocUnbound', remoteDom } })), weight: 3 },
  { arbitrary: fc.tuple(somePort, fc.constantFrom(1, 1, 0)).map(([remotePort, remoteDom]) => ({ peer: { op: 'bindInterdomain', remotePort, remoteDom } })), weight: 2 },
  { arbitrary: somePort.map((p) => ({ peer: { op: 'close', port: p } })), weight: 1 },
  { arbitrary: fc.constant({ peer: { op: 'takeEvents' } }), weight: 2 },
  { arbitrary: somePort.map((p) => ({ peerSend: p })), weight: 4 },
);
