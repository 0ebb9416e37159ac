// An adapter module written against docs/adapter-api.md: it wraps xvc's reference adapter and
// counts the Xen hypercalls it answers and the interrupts it takes, by number. Load it with
//   npx xvc run --adapter docs/examples/adapters/counting-adapter.mjs
// A real adapter answers hypercall() itself, using host.viridian (the Viridian machine as guest
// code sees it), host.memory, host.platform, host.guest and host.root.
import { createReferenceAdapter } from 'xen-viridian-conformance';

export const apiVersion = 1;

export default function createCountingAdapter(host) {
  const inner = createReferenceAdapter(host);
  const calls = new Map();
  let interrupts = 0;
  return {
    name: 'counting-adapter',
    version: '1.0.0',
    privateFrames: inner.privateFrames,
    hypercall(vcpu, nr, args) {
      calls.set(nr, (calls.get(nr) ?? 0) + 1);
      return inner.hypercall(vcpu, nr, args);
    },
    interrupt(vp, vector) {
      interrupts++;
      inner.interrupt(vp, vector);
    },
    returnToGuest(vcpu) {
      inner.returnToGuest(vcpu);
    },
    // Not part of the interface: for the example's own test.
    counts: () => ({ calls: Object.fromEntries([...calls].map(([nr, n]) => [String(nr), n])), interrupts }),
  };
}
