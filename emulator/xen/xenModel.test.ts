import { SCHEDOP } from './abi/sched';
import { XenHypercall } from './abi/hypercalls';
import { E, XenTestGuest } from './xenTestkit';

describe('hypercall dispatch (xen/arch/x86/pv/hypercall.c _pv_hypercall, xen/arch/x86/hvm/hypercall.c hvm_hypercall, gen_hypercall.awk)', () => {
  test.each([11, 27, 31, 38, 39, 43, 47, 50, 63, 64, 255])('number %i is -ENOSYS for a PV guest', (nr) => {
    expect(new XenTestGuest().ret(nr)).toBe(E('XEN_ENOSYS'));
  });

  test('the number is the whole of RAX: 2^32 + 24 is not vcpu_op', () => {
    const g = new XenTestGuest();
    expect(g.xen.hypercall(0, (1n << 32n) + 24n, [3n, 0n, 0n, 0n, 0n])).toEqual({ kind: 'returned', value: E('XEN_ENOSYS') });
  });

  test.each([0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 14, 16, 19, 22, 23, 25, 28, 30, 37, 48])('PV-only number %i is -ENOSYS for an HVM guest', (nr) => {
    expect(new XenTestGuest({ xen: { guestType: 'pvhvm' } }).ret(nr)).toBe(E('XEN_ENOSYS'));
  });

  test('a reachable hypercall the model does not implement answers unimplemented, with the reason, never a guessed errno', () => {
    const outcome = new XenTestGuest().call('mmu_update', 0, 0, 0, 0x7ff0);
    expect(outcome).toEqual({ kind: 'unimplemented', reason: 'mmu_update: PV page tables are not modelled' });
  });

  test('a vCPU that is blocked or down cannot issue a hypercall: that is a harness bug and throws', () => {
    const g = new XenTestGuest({ vcpus: 2, online: [0] });
    expect(() => g.callOn(1, 'xen_version', 0)).toThrow('[xen] vCPU 1 is down; it cannot issue a hypercall');
    expect(g.call('sched_op', SCHEDOP.SCHEDOP_block, 0)).toEqual({ kind: 'blocked' });
    expect(() => g.call('xen_version', 0)).toThrow('[xen] vCPU 0 is blocked; it cannot issue a hypercall');
  });

  test('every modelled number has the name the headers give it', () => {
    expect(XenHypercall.sched_op).toBe(29);
    expect(new XenTestGuest().xen.definition(29)?.name).toBe('sched_op');
  });
});
