import { DOMID } from './abi/xen';
import { XENMEM } from './abi/memory';
import { xen_memory_reservation } from './abi/layouts';
import { E, XenTestGuest } from './xenTestkit';

const BAD_PTR = 0x7fff_f000_0000n;
const SELF = DOMID.DOMID_SELF;
const GUEST = 1;
const memop = (g: XenTestGuest, op: number, arg: bigint) => g.ret('memory_op', BigInt(op), arg);

describe('XENMEM_claim_pages from a domU (xen/common/memory.c do_memory_op)', () => {
  const claim = (g: XenTestGuest, fields: Partial<Record<'extent_start' | 'nr_extents' | 'extent_order' | 'mem_flags' | 'domid', number | bigint>>) =>
    memop(g, XENMEM.XENMEM_claim_pages, g.put(xen_memory_reservation, { nr_extents: 16, domid: GUEST, ...fields }));

  test('-EFAULT, then -EINVAL for extent_start, extent_order, mem_flags, in that order', () => {
    const g = new XenTestGuest();
    expect(memop(g, XENMEM.XENMEM_claim_pages, BAD_PTR)).toBe(E('XEN_EFAULT'));
    expect(claim(g, { extent_start: 0x1000, domid: 7 })).toBe(E('XEN_EINVAL'));
    expect(claim(g, { extent_order: 1 })).toBe(E('XEN_EINVAL'));
    expect(claim(g, { mem_flags: 1 })).toBe(E('XEN_EINVAL'));
  });

  test('rcu_lock_domain_by_id: DOMID_SELF and unknown ids are -EINVAL; a real domain is -EPERM (XSM_PRIV)', () => {
    for (const guestType of ['pv', 'pvhvm'] as const) {
      const g = new XenTestGuest({ xen: { guestType } });
      expect(claim(g, { domid: SELF })).toBe(E('XEN_EINVAL'));
      expect(claim(g, { domid: 7 })).toBe(E('XEN_EINVAL'));
      expect(claim(g, { domid: GUEST })).toBe(E('XEN_EPERM'));
      expect(claim(g, { domid: 0 })).toBe(E('XEN_EPERM'));
    }
  });
});

describe('XENMEM_set_pod_target / XENMEM_get_pod_target (xen/arch/x86/mm.c arch_memory_op)', () => {
  /** struct xen_pod_target: target_pages, three OUT words, domid at offset 32 (40 bytes). */
  const podTarget = (g: XenTestGuest, domid: number, targetPages = 512n) => {
    const at = g.alloc(40);
    g.machine.memory.write64(Number(at), targetPages);
    g.machine.memory.write16(Number(at) + 32, domid);
    return at;
  };
  const OPS = [XENMEM.XENMEM_set_pod_target, XENMEM.XENMEM_get_pod_target];

  test('-EFAULT, -ESRCH, then -EINVAL for a PV domain (no populate-on-demand)', () => {
    const g = new XenTestGuest({ xen: { guestType: 'pv' } });
    for (const op of OPS) {
      expect(memop(g, op, BAD_PTR)).toBe(E('XEN_EFAULT'));
      expect(memop(g, op, podTarget(g, 7))).toBe(E('XEN_ESRCH'));
      expect(memop(g, op, podTarget(g, SELF))).toBe(E('XEN_EINVAL'));
      expect(memop(g, op, podTarget(g, 0))).toBe(E('XEN_EINVAL'));
    }
  });

  test('an HVM domain is -EPERM for a domU (XSM_PRIV), before the target is compared with max_pages', () => {
    const g = new XenTestGuest({ xen: { guestType: 'pvhvm' } });
    for (const op of OPS) {
      expect(memop(g, op, podTarget(g, SELF))).toBe(E('XEN_EPERM'));
      expect(memop(g, op, podTarget(g, GUEST, (1n << 64n) - 1n))).toBe(E('XEN_EPERM'));
      expect(memop(g, op, podTarget(g, 0))).toBe(E('XEN_EINVAL')); // dom0 is PV
    }
  });
});
