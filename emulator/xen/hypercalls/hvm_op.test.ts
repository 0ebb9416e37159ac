import { EVTCHNOP } from '../abi/event_channel';
import { HVMOP, HVM_PARAM } from '../abi/hvm_op';
import { SCHEDOP, SHUTDOWN } from '../abi/sched';
import { DOMID } from '../abi/xen';
import { evtchn_bind_ipi, evtchn_port_arg, xen_hvm_evtchn_upcall_vector, xen_hvm_get_time, xen_hvm_param } from '../abi/layouts';
import type { TlbEntry } from '../../machine/tlb';
import type { Vcpu } from '../../machine/vcpu';
import type { XenOutcome } from '../outcome';
import type { XenProfileName } from '../profiles';
import { E, XenTestGuest, type TestGuestOptions } from '../xenTestkit';

const HVM = 'xen/arch/x86/hvm/hvm.c';
const IRQ = 'xen/arch/x86/hvm/irq.c';
const P = HVM_PARAM;
const BAD_PTR = 0x7fff_f000_0000n; // below 2^47, beyond guest memory: the copy faults
const SENTINEL = 0x5a5a_5a5a_5a5a_5a5an;
const BLOCKED: XenOutcome = { kind: 'blocked' };
const VECTOR_VIA = (2n << 56n) | 0xf3n; // HVM_PARAM_CALLBACK_TYPE_VECTOR, vector 0xf3
const GSI_VIA = 5n; // HVM_PARAM_CALLBACK_TYPE_GSI, GSI 5
const INTX_VIA = (1n << 56n) | (3n << 11n) | 1n; // HVM_PARAM_CALLBACK_TYPE_PCI_INTX, device 3, INTB
const TSS_MAX = 104n + 32n + 8192n + 1n; // sizeof(struct tss32) + interrupt redirection bitmap + I/O bitmap + 1
const BIT63 = 1n << 63n;

/** A PV guest (the default) without the 100 Hz ticker. */
const pv = (options: TestGuestOptions = {}) => new XenTestGuest({ ...options, xen: { initialPeriodNs: 0n, ...options.xen } });
/** An HVM guest using the PV interfaces. */
const hvm = (options: TestGuestOptions = {}) => new XenTestGuest({ ...options, xen: { guestType: 'pvhvm', ...options.xen } });

type ParamFields = { domid?: number; pad?: number; index: number; value?: bigint };

/** HVMOP_set_param / get_param with a struct argument; returns the return value and the struct after the call. */
function paramOp(g: XenTestGuest, op: number, fields: ParamFields, vcpu = 0) {
  const at = g.put(xen_hvm_param, { domid: DOMID.DOMID_SELF, value: SENTINEL, ...fields });
  const rc = g.retOn(vcpu, 'hvm_op', op, at);
  return { rc, out: g.get(xen_hvm_param, at) };
}
const set = (g: XenTestGuest, index: number, value: bigint, domid: number = DOMID.DOMID_SELF, vcpu = 0) =>
  paramOp(g, HVMOP.HVMOP_set_param, { domid, index, value }, vcpu).rc;
const get = (g: XenTestGuest, index: number, domid: number = DOMID.DOMID_SELF) => {
  const r = paramOp(g, HVMOP.HVMOP_get_param, { domid, index });
  return { rc: r.rc, value: r.out.value };
};
/** The value get_param reports, failing the test if it does not succeed. */
const read = (g: XenTestGuest, index: number): bigint => {
  const r = get(g, index);
  expect(r.rc).toBe(0n);
  return r.value;
};

/** The machine vCPU `i`. */
function hw(g: XenTestGuest, i: number): Vcpu {
  const v = g.machine.vcpus[i];
  if (!v) throw new Error(`no vCPU ${i}`);
  return v;
}

/** An IPI port notifying `vcpu`. */
function ipi(g: XenTestGuest, vcpu: number): number {
  const at = g.put(evtchn_bind_ipi, { vcpu });
  expect(g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_bind_ipi, at)).toBe(0n);
  return g.get(evtchn_bind_ipi, at).port;
}
const send = (g: XenTestGuest, port: number, from = 0) => expect(g.retOn(from, 'event_channel_op', EVTCHNOP.EVTCHNOP_send, g.put(evtchn_port_arg, { port }))).toBe(0n);
const upcallVector = (g: XenTestGuest, vcpu: number, vector: number, from = 0) =>
  g.retOn(from, 'hvm_op', HVMOP.HVMOP_set_evtchn_upcall_vector, g.put(xen_hvm_evtchn_upcall_vector, { vcpu, vector }));
const blockOn = (g: XenTestGuest, vcpu: number) => expect(g.callOn(vcpu, 'sched_op', SCHEDOP.SCHEDOP_block, 0)).toEqual(BLOCKED);

type Named = readonly (readonly [string, number])[];

const GUEST_READABLE: Named = [
  ['CALLBACK_IRQ', P.HVM_PARAM_CALLBACK_IRQ],
  ['STORE_PFN', P.HVM_PARAM_STORE_PFN],
  ['STORE_EVTCHN', P.HVM_PARAM_STORE_EVTCHN],
  ['VM86_TSS', P.HVM_PARAM_VM86_TSS],
  ['CONSOLE_PFN', P.HVM_PARAM_CONSOLE_PFN],
  ['CONSOLE_EVTCHN', P.HVM_PARAM_CONSOLE_EVTCHN],
  ['ACPI_IOPORTS_LOCATION', P.HVM_PARAM_ACPI_IOPORTS_LOCATION],
  ['VM_GENERATION_ID_ADDR', P.HVM_PARAM_VM_GENERATION_ID_ADDR],
  ['ALTP2M', P.HVM_PARAM_ALTP2M],
  ['X87_FIP_WIDTH', P.HVM_PARAM_X87_FIP_WIDTH],
  ['VM86_TSS_SIZED', P.HVM_PARAM_VM86_TSS_SIZED],
];

/** Parameters neither settable nor readable by the guest itself (named ones and unassigned numbers). */
const GUEST_HIDDEN: Named = [
  ['3 (unassigned)', 3],
  ['IOREQ_PFN', P.HVM_PARAM_IOREQ_PFN],
  ['BUFIOREQ_PFN', P.HVM_PARAM_BUFIOREQ_PFN],
  ['7 (unassigned)', 7],
  ['8 (unassigned)', 8],
  ['VIRIDIAN', P.HVM_PARAM_VIRIDIAN],
  ['TIMER_MODE', P.HVM_PARAM_TIMER_MODE],
  ['HPET_ENABLED', P.HVM_PARAM_HPET_ENABLED],
  ['IDENT_PT', P.HVM_PARAM_IDENT_PT],
  ['ACPI_S_STATE', P.HVM_PARAM_ACPI_S_STATE],
  ['VPT_ALIGN', P.HVM_PARAM_VPT_ALIGN],
  ['PAGING_RING_PFN', P.HVM_PARAM_PAGING_RING_PFN],
  ['MONITOR_RING_PFN', P.HVM_PARAM_MONITOR_RING_PFN],
  ['SHARING_RING_PFN', P.HVM_PARAM_SHARING_RING_PFN],
  ['TRIPLE_FAULT_REASON', P.HVM_PARAM_TRIPLE_FAULT_REASON],
  ['IOREQ_SERVER_PFN', P.HVM_PARAM_IOREQ_SERVER_PFN],
  ['NR_IOREQ_SERVER_PAGES', P.HVM_PARAM_NR_IOREQ_SERVER_PAGES],
  ['MCA_CAP', P.HVM_PARAM_MCA_CAP],
];

const DEPRECATED: Named = [
  ['PAE_ENABLED', P.HVM_PARAM_PAE_ENABLED],
  ['DM_DOMAIN', P.HVM_PARAM_DM_DOMAIN],
  ['MEMORY_EVENT_CR0', P.HVM_PARAM_MEMORY_EVENT_CR0],
  ['MEMORY_EVENT_CR3', P.HVM_PARAM_MEMORY_EVENT_CR3],
  ['MEMORY_EVENT_CR4', P.HVM_PARAM_MEMORY_EVENT_CR4],
  ['MEMORY_EVENT_INT3', P.HVM_PARAM_MEMORY_EVENT_INT3],
  ['NESTEDHVM', P.HVM_PARAM_NESTEDHVM],
  ['MEMORY_EVENT_SINGLE_STEP', P.HVM_PARAM_MEMORY_EVENT_SINGLE_STEP],
  ['BUFIOREQ_EVTCHN', P.HVM_PARAM_BUFIOREQ_EVTCHN],
  ['MEMORY_EVENT_MSR', P.HVM_PARAM_MEMORY_EVENT_MSR],
];

describe(`HVMOP_set_param and HVMOP_get_param from a PV guest (${HVM} hvmop_set_param, hvmop_get_param)`, () => {
  test.each([
    ['set_param', HVMOP.HVMOP_set_param],
    ['get_param', HVMOP.HVMOP_get_param],
  ])('%s with an unreadable argument is -EFAULT', (_name, op) => {
    expect(pv().ret('hvm_op', op, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });

  test.each([
    ['set_param', HVMOP.HVMOP_set_param],
    ['get_param', HVMOP.HVMOP_get_param],
  ])('%s with index >= HVM_NR_PARAMS (39) is -EINVAL, checked before the domain is looked up', (_name, op) => {
    const g = pv();
    expect(paramOp(g, op, { domid: 9, index: P.HVM_NR_PARAMS }).rc).toBe(E('XEN_EINVAL'));
    expect(paramOp(g, op, { domid: 9, index: 0xffff_ffff }).rc).toBe(E('XEN_EINVAL'));
  });

  test.each([
    ['set_param', HVMOP.HVMOP_set_param],
    ['get_param', HVMOP.HVMOP_get_param],
  ])('%s naming a domain that does not exist is -ESRCH', (_name, op) => {
    expect(paramOp(pv(), op, { domid: 9, index: P.HVM_PARAM_STORE_EVTCHN }).rc).toBe(E('XEN_ESRCH'));
    expect(paramOp(pv(), op, { domid: DOMID.DOMID_IO, index: P.HVM_PARAM_STORE_EVTCHN }).rc).toBe(E('XEN_ESRCH'));
  });

  test.each([
    ['DOMID_SELF', DOMID.DOMID_SELF],
    ['its own id', 1],
    ['dom0 (the PV peer; is_hvm_domain comes before XSM)', 0],
  ])('set_param on %s is -EINVAL: the target is not HVM; nothing is stored', (_name, domid) => {
    const g = pv();
    expect(set(g, P.HVM_PARAM_STORE_EVTCHN, 7n, domid)).toBe(E('XEN_EINVAL'));
    expect(set(g, P.HVM_PARAM_CALLBACK_IRQ, VECTOR_VIA, domid)).toBe(E('XEN_EINVAL'));
    expect([g.xen.guest.hvmParams[P.HVM_PARAM_STORE_EVTCHN], g.xen.guest.hvmParams[P.HVM_PARAM_CALLBACK_IRQ]]).toEqual([0n, 0n]);
  });

  test('get_param on itself or dom0 is -EINVAL and the struct is not written back', () => {
    const g = pv();
    g.xen.guest.hvmParams[P.HVM_PARAM_STORE_PFN] = 0xfeffcn;
    expect(get(g, P.HVM_PARAM_STORE_PFN)).toEqual({ rc: E('XEN_EINVAL'), value: SENTINEL });
    expect(get(g, P.HVM_PARAM_STORE_PFN, 0)).toEqual({ rc: E('XEN_EINVAL'), value: SENTINEL });
  });
});

describe(`other HVMOPs from a PV guest (${HVM} do_hvm_op)`, () => {
  test('HVMOP_flush_tlbs is -EINVAL (hvmop_flush_tlb_all: caller not HVM) and flushes nothing', () => {
    const g = pv();
    hw(g, 1).tlb.fill(0n, 0x1000n, false);
    expect(g.ret('hvm_op', HVMOP.HVMOP_flush_tlbs, 0)).toBe(E('XEN_EINVAL'));
    expect(g.ret('hvm_op', HVMOP.HVMOP_flush_tlbs, g.alloc(8))).toBe(E('XEN_EINVAL'));
    expect(hw(g, 1).tlb.size).toBe(1);
  });

  test('HVMOP_set_evtchn_upcall_vector is -EINVAL, checked before the argument is read', () => {
    const g = pv();
    expect(upcallVector(g, 0, 0xf3)).toBe(E('XEN_EINVAL'));
    expect(g.ret('hvm_op', HVMOP.HVMOP_set_evtchn_upcall_vector, BAD_PTR)).toBe(E('XEN_EINVAL'));
  });

  test('HVMOP_get_time works for PV too: Xen system time (NOW()) in ns', () => {
    const g = pv();
    g.advance(123_456_789n);
    const at = g.put(xen_hvm_get_time, { now: SENTINEL });
    expect(g.ret('hvm_op', HVMOP.HVMOP_get_time, at)).toBe(0n);
    expect(g.get(xen_hvm_get_time, at).now).toBe(123_456_789n);
  });

  test('HVMOP_get_time with an unwritable argument is -EFAULT', () => {
    expect(pv().ret('hvm_op', HVMOP.HVMOP_get_time, BAD_PTR)).toBe(E('XEN_EFAULT'));
    expect(hvm().ret('hvm_op', HVMOP.HVMOP_get_time, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });

  test('HVMOP_guest_request_vm_event: a NULL argument is 0, anything else -EINVAL', () => {
    const g = pv();
    expect(g.ret('hvm_op', HVMOP.HVMOP_guest_request_vm_event, 0)).toBe(0n);
    expect(g.ret('hvm_op', HVMOP.HVMOP_guest_request_vm_event, g.alloc(8))).toBe(E('XEN_EINVAL'));
  });

  test.each([2, 3, 4, 6, 7, 8, 12, 13, 14, 16, 22, 26, 0xffff])('unknown op %d is -ENOSYS', (op) => {
    const g = pv();
    expect(g.ret('hvm_op', op, g.put(xen_hvm_param, { domid: DOMID.DOMID_SELF, index: 2 }))).toBe(E('XEN_ENOSYS'));
  });

  test('op is an unsigned long: 2^32 is -ENOSYS, not set_param', () => {
    const g = hvm();
    expect(g.ret('hvm_op', 1n << 32n, g.put(xen_hvm_param, { domid: DOMID.DOMID_SELF, index: P.HVM_PARAM_STORE_EVTCHN, value: 7n }))).toBe(E('XEN_ENOSYS'));
    expect(g.xen.guest.hvmParams[P.HVM_PARAM_STORE_EVTCHN]).toBe(0n);
  });

  test.each([
    ['pagetable_dying', HVMOP.HVMOP_pagetable_dying],
    ['xentrace', HVMOP.HVMOP_xentrace],
    ['get_mem_type', HVMOP.HVMOP_get_mem_type],
    ['altp2m', HVMOP.HVMOP_altp2m],
  ])('HVMOP_%s is reported as not modelled', (_name, op) => {
    const g = pv();
    expect(g.call('hvm_op', op, g.alloc(64))).toMatchObject({ kind: 'unimplemented' });
  });
});

describe(`HVMOP_set_param: guest-settable parameters (${HVM} hvm_allow_set_param, hvm_set_param)`, () => {
  test.each([
    ['CALLBACK_IRQ', P.HVM_PARAM_CALLBACK_IRQ, VECTOR_VIA],
    ['STORE_EVTCHN', P.HVM_PARAM_STORE_EVTCHN, 7n],
    ['CONSOLE_EVTCHN', P.HVM_PARAM_CONSOLE_EVTCHN, 0xffff_ffff_ffffn],
    ['VM_GENERATION_ID_ADDR', P.HVM_PARAM_VM_GENERATION_ID_ADDR, 0xfedc_ba98_7654_3210n],
  ])('%s is stored as given and read back', (_name, index, value) => {
    const g = hvm();
    expect(set(g, index, value)).toBe(0n);
    expect(read(g, index)).toBe(value);
    expect(set(g, index, 0n)).toBe(0n);
    expect(read(g, index)).toBe(0n);
  });

  test('the own numeric domid is accepted like DOMID_SELF (rcu_lock_domain_by_any_id)', () => {
    const g = hvm();
    expect(set(g, P.HVM_PARAM_STORE_EVTCHN, 3n, 1)).toBe(0n);
    expect(get(g, P.HVM_PARAM_STORE_EVTCHN, 1)).toEqual({ rc: 0n, value: 3n });
  });

  test('X87_FIP_WIDTH takes 0, 4 or 8; anything else is -EINVAL and keeps the old value', () => {
    const g = hvm();
    for (const w of [4n, 8n, 0n, 8n]) {
      expect(set(g, P.HVM_PARAM_X87_FIP_WIDTH, w)).toBe(0n);
      expect(read(g, P.HVM_PARAM_X87_FIP_WIDTH)).toBe(w);
    }
    for (const w of [1n, 2n, 16n, 32n, (1n << 32n) | 4n]) expect(set(g, P.HVM_PARAM_X87_FIP_WIDTH, w)).toBe(E('XEN_EINVAL'));
    expect(read(g, P.HVM_PARAM_X87_FIP_WIDTH)).toBe(8n);
  });

  test('ACPI_IOPORTS_LOCATION switches only between 0 and 1 (pmtimer_change_ioport); the same value is 0', () => {
    const g = hvm();
    expect(set(g, P.HVM_PARAM_ACPI_IOPORTS_LOCATION, 0n)).toBe(0n);
    expect(set(g, P.HVM_PARAM_ACPI_IOPORTS_LOCATION, 2n)).toBe(E('XEN_EINVAL'));
    expect(set(g, P.HVM_PARAM_ACPI_IOPORTS_LOCATION, 1n)).toBe(0n);
    expect(read(g, P.HVM_PARAM_ACPI_IOPORTS_LOCATION)).toBe(1n);
    expect(set(g, P.HVM_PARAM_ACPI_IOPORTS_LOCATION, 1n)).toBe(0n);
    expect(set(g, P.HVM_PARAM_ACPI_IOPORTS_LOCATION, 3n)).toBe(E('XEN_EINVAL'));
    expect(set(g, P.HVM_PARAM_ACPI_IOPORTS_LOCATION, 1n | (1n << 32n))).toBe(E('XEN_EINVAL'));
    expect(read(g, P.HVM_PARAM_ACPI_IOPORTS_LOCATION)).toBe(1n);
    expect(set(g, P.HVM_PARAM_ACPI_IOPORTS_LOCATION, 0n)).toBe(0n);
    expect(read(g, P.HVM_PARAM_ACPI_IOPORTS_LOCATION)).toBe(0n);
  });
});

describe(`HVMOP_set_param: the VM86 TSS (${HVM} hvm_set_param, hvm_get_param)`, () => {
  test('VM86_TSS is stored as VM86_TSS_SIZED with a size of 128 and VM86_TSS_UPDATED; get masks both views', () => {
    const g = hvm();
    expect(set(g, P.HVM_PARAM_VM86_TSS, 0xfeed_0000n)).toBe(0n);
    expect(read(g, P.HVM_PARAM_VM86_TSS)).toBe(0xfeed_0000n);
    expect(read(g, P.HVM_PARAM_VM86_TSS_SIZED)).toBe((128n << 32n) | 0xfeed_0000n);
    expect(g.xen.guest.hvmParams[P.HVM_PARAM_VM86_TSS_SIZED]).toBe(BIT63 | (128n << 32n) | 0xfeed_0000n);
    expect(g.xen.guest.hvmParams[P.HVM_PARAM_VM86_TSS]).toBe(0n); // the index itself is never written
  });

  test('VM86_TSS 0 clears VM86_TSS_SIZED completely (no size, no flag)', () => {
    const g = hvm();
    expect(set(g, P.HVM_PARAM_VM86_TSS_SIZED, (200n << 32n) | 0x1000n)).toBe(0n);
    expect(set(g, P.HVM_PARAM_VM86_TSS, 0n)).toBe(0n);
    expect(g.xen.guest.hvmParams[P.HVM_PARAM_VM86_TSS_SIZED]).toBe(0n);
    expect(read(g, P.HVM_PARAM_VM86_TSS_SIZED)).toBe(0n);
  });

  test('VM86_TSS wider than 32 bits crashes the domain that set it and is -EINVAL; nothing is stored', () => {
    const g = hvm();
    expect(set(g, P.HVM_PARAM_VM86_TSS, 1n << 32n)).toBe(E('XEN_EINVAL'));
    expect(g.machine.shutdown?.reason).toBe(SHUTDOWN.SHUTDOWN_crash);
    expect(g.eventLog()).toEqual([`shutdown ${SHUTDOWN.SHUTDOWN_crash} @0`]);
    expect(g.xen.guest.hvmParams[P.HVM_PARAM_VM86_TSS_SIZED]).toBe(0n);
  });

  test('VM86_TSS_SIZED keeps base and size, adds VM86_TSS_UPDATED; VM86_TSS reads the base', () => {
    const g = hvm();
    expect(set(g, P.HVM_PARAM_VM86_TSS_SIZED, (200n << 32n) | 0x2000n)).toBe(0n);
    expect(read(g, P.HVM_PARAM_VM86_TSS_SIZED)).toBe((200n << 32n) | 0x2000n);
    expect(read(g, P.HVM_PARAM_VM86_TSS)).toBe(0x2000n);
    expect(g.xen.guest.hvmParams[P.HVM_PARAM_VM86_TSS_SIZED]).toBe(BIT63 | (200n << 32n) | 0x2000n);
  });

  test('VM86_TSS_SIZED of exactly sizeof(struct tss32) = 104 is accepted', () => {
    const g = hvm();
    expect(set(g, P.HVM_PARAM_VM86_TSS_SIZED, (104n << 32n) | 0x3000n)).toBe(0n);
    expect(read(g, P.HVM_PARAM_VM86_TSS_SIZED)).toBe((104n << 32n) | 0x3000n);
  });

  test('VM86_TSS_SIZED smaller than struct tss32 crashes the domain and is -EINVAL', () => {
    const g = hvm();
    expect(set(g, P.HVM_PARAM_VM86_TSS_SIZED, (103n << 32n) | 0x3000n)).toBe(E('XEN_EINVAL'));
    expect(g.machine.shutdown?.reason).toBe(SHUTDOWN.SHUTDOWN_crash);
    expect(g.xen.guest.hvmParams[P.HVM_PARAM_VM86_TSS_SIZED]).toBe(0n);
  });

  test('a size above 104 + 32 + 8192 + 1 is capped to that', () => {
    const g = hvm();
    expect(set(g, P.HVM_PARAM_VM86_TSS_SIZED, ((TSS_MAX + 1n) << 32n) | 0x4000n)).toBe(0n);
    expect(read(g, P.HVM_PARAM_VM86_TSS_SIZED)).toBe((TSS_MAX << 32n) | 0x4000n);
    expect(set(g, P.HVM_PARAM_VM86_TSS_SIZED, (TSS_MAX << 32n) | 0x5000n)).toBe(0n);
    expect(read(g, P.HVM_PARAM_VM86_TSS_SIZED)).toBe((TSS_MAX << 32n) | 0x5000n);
  });

  test('the size check reads all of value >> 32: with bit 63 set a small size is not too small and is capped to the maximum', () => {
    const g = hvm();
    expect(set(g, P.HVM_PARAM_VM86_TSS_SIZED, BIT63 | (50n << 32n) | 0x6000n)).toBe(0n);
    expect(g.machine.shutdown).toBeNull();
    expect(read(g, P.HVM_PARAM_VM86_TSS_SIZED)).toBe((TSS_MAX << 32n) | 0x6000n);
    expect(set(g, P.HVM_PARAM_VM86_TSS_SIZED, BIT63 | (200n << 32n) | 0x7000n)).toBe(0n);
    expect(read(g, P.HVM_PARAM_VM86_TSS_SIZED)).toBe((TSS_MAX << 32n) | 0x7000n);
  });
});

describe(`HVMOP_set_param: parameters the guest may not set (${HVM} hvm_allow_set_param)`, () => {
  const notSettable: Named = [...GUEST_HIDDEN, ['STORE_PFN', P.HVM_PARAM_STORE_PFN], ['CONSOLE_PFN', P.HVM_PARAM_CONSOLE_PFN]];
  test.each(notSettable)(
    '%s is -EPERM for the domain itself and is not stored',
    (_name, index) => {
      const g = hvm();
      expect(set(g, index, 1n)).toBe(E('XEN_EPERM'));
      expect(g.xen.guest.hvmParams[index]).toBe(0n);
    },
  );

  test.each(DEPRECATED)('deprecated %s is -EINVAL', (_name, index) => {
    const g = hvm();
    expect(set(g, index, 1n)).toBe(E('XEN_EINVAL'));
    expect(g.xen.guest.hvmParams[index]).toBe(0n);
  });

  test.each([
    ['xen-4.22', E('XEN_EEXIST')],
    ['xen-4.18', E('XEN_EPERM')],
    ['xen-4.17', E('XEN_EPERM')],
  ] as const)('ALTP2M on %s is %s (read-only since 4.19; before, a parameter the guest may not set)', (profile: XenProfileName, rc: bigint) => {
    const g = hvm({ xen: { profile } });
    expect(set(g, P.HVM_PARAM_ALTP2M, 1n)).toBe(rc);
    expect(read(g, P.HVM_PARAM_ALTP2M)).toBe(0n);
  });

  test('index >= HVM_NR_PARAMS is -EINVAL', () => {
    expect(set(hvm(), P.HVM_NR_PARAMS, 0n)).toBe(E('XEN_EINVAL'));
  });

  test('a domain that does not exist is -ESRCH', () => {
    expect(set(hvm(), P.HVM_PARAM_STORE_EVTCHN, 1n, 9)).toBe(E('XEN_ESRCH'));
  });

  test('dom0 as the target is -EINVAL, not -EPERM: the peer is PV and is_hvm_domain comes first', () => {
    const g = hvm();
    expect(set(g, P.HVM_PARAM_STORE_EVTCHN, 1n, 0)).toBe(E('XEN_EINVAL'));
    expect(get(g, P.HVM_PARAM_STORE_EVTCHN, 0)).toEqual({ rc: E('XEN_EINVAL'), value: SENTINEL });
  });
});

describe(`HVMOP_get_param (${HVM} hvmop_get_param, hvm_allow_get_param, hvm_get_param)`, () => {
  test.each(GUEST_READABLE)('%s is readable by the guest (0 when never set)', (_name, index) => {
    expect(get(hvm(), index)).toEqual({ rc: 0n, value: 0n });
  });

  test('STORE_PFN and CONSOLE_PFN, which only the toolstack sets, are readable', () => {
    const g = hvm();
    g.xen.guest.hvmParams[P.HVM_PARAM_STORE_PFN] = 0xfeffcn;
    g.xen.guest.hvmParams[P.HVM_PARAM_CONSOLE_PFN] = 0xfeffdn;
    expect([read(g, P.HVM_PARAM_STORE_PFN), read(g, P.HVM_PARAM_CONSOLE_PFN)]).toEqual([0xfeffcn, 0xfeffdn]);
  });

  test.each(GUEST_HIDDEN)('%s is -EPERM and the struct is not written back', (_name, index) => {
    const g = hvm();
    g.xen.guest.hvmParams[index] = 2n;
    expect(get(g, index)).toEqual({ rc: E('XEN_EPERM'), value: SENTINEL });
  });

  test.each(DEPRECATED)('deprecated %s is -EINVAL', (_name, index) => {
    expect(get(hvm(), index)).toEqual({ rc: E('XEN_EINVAL'), value: SENTINEL });
  });

  test('the whole struct is copied back: domid and pad stay as given, value is replaced', () => {
    const g = hvm();
    expect(set(g, P.HVM_PARAM_STORE_EVTCHN, 7n)).toBe(0n);
    const r = paramOp(g, HVMOP.HVMOP_get_param, { domid: DOMID.DOMID_SELF, pad: 0xbeef, index: P.HVM_PARAM_STORE_EVTCHN });
    expect(r).toEqual({ rc: 0n, out: { domid: DOMID.DOMID_SELF, pad: 0xbeef, index: P.HVM_PARAM_STORE_EVTCHN, value: 7n } });
  });

  test('index >= HVM_NR_PARAMS is -EINVAL and a domain that does not exist -ESRCH', () => {
    const g = hvm();
    expect(get(g, 40)).toEqual({ rc: E('XEN_EINVAL'), value: SENTINEL });
    expect(get(g, P.HVM_PARAM_STORE_EVTCHN, 9)).toEqual({ rc: E('XEN_ESRCH'), value: SENTINEL });
  });
});

describe(`HVM_PARAM_CALLBACK_IRQ: where event upcalls go (${IRQ} hvm_set_callback_via, hvm_assert_evtchn_irq)`, () => {
  /** An HVM guest with an IPI port for each of vCPUs 0 and 1; returns the ports. */
  function twoPorts(via: bigint | undefined) {
    const g = hvm();
    const p0 = ipi(g, 0);
    const p1 = ipi(g, 1);
    if (via !== undefined) expect(set(g, P.HVM_PARAM_CALLBACK_IRQ, via)).toBe(0n);
    g.events();
    return { g, p0, p1 };
  }

  test('the vector type delivers an upcall to every vCPU', () => {
    const { g, p0, p1 } = twoPorts(VECTOR_VIA);
    send(g, p1);
    send(g, p0);
    expect(g.eventLog()).toEqual(['upcall v1 @0', 'upcall v0 @0']);
  });

  test.each([
    ['GSI', GSI_VIA],
    ['PCI INTx', INTX_VIA],
  ])('the %s type reaches vCPU 0 only: vCPU 1 gets the pending flag but no upcall', (_name, via) => {
    const { g, p0, p1 } = twoPorts(via);
    send(g, p1);
    expect(g.eventLog()).toEqual([]);
    expect(g.vcpuInfo(1)).toMatchObject({ pending: 1, sel: 1n });
    send(g, p0);
    expect(g.eventLog()).toEqual(['upcall v0 @0']);
  });

  test('with no callback set no vCPU gets an upcall', () => {
    const { g, p0, p1 } = twoPorts(undefined);
    send(g, p0);
    send(g, p1);
    expect(g.eventLog()).toEqual([]);
    expect([g.vcpuInfo(0).pending, g.vcpuInfo(1).pending]).toEqual([1, 1]);
  });

  test('setting the callback delivers events already pending (hvm_assert_evtchn_irq on every online vCPU)', () => {
    const { g, p0, p1 } = twoPorts(undefined);
    send(g, p0);
    send(g, p1);
    expect(set(g, P.HVM_PARAM_CALLBACK_IRQ, VECTOR_VIA)).toBe(0n);
    expect(g.eventLog()).toEqual(['upcall v0 @0', 'upcall v1 @0']);
  });

  test('setting the vector type kicks every vCPU: one blocked in SCHEDOP_block wakes, with no upcall when nothing is pending', () => {
    const { g } = twoPorts(undefined);
    blockOn(g, 1);
    g.advance(40);
    expect(g.eventLog()).toEqual(['v1 running->blocked @0']);
    expect(set(g, P.HVM_PARAM_CALLBACK_IRQ, VECTOR_VIA)).toBe(0n);
    expect(g.eventLog()).toEqual(['v1 blocked->running @40', 'v1 resumed 0 @40']);
  });

  test('setting a GSI callback does not wake a blocked vCPU 1 ...', () => {
    const { g } = twoPorts(undefined);
    blockOn(g, 1);
    g.events();
    expect(set(g, P.HVM_PARAM_CALLBACK_IRQ, GSI_VIA)).toBe(0n);
    expect(g.eventLog()).toEqual([]);
    expect(hw(g, 1).state).toBe('blocked');
  });

  test('... but wakes a blocked vCPU 0 with an event pending, whose line is now asserted', () => {
    const { g, p0 } = twoPorts(undefined);
    blockOn(g, 0);
    send(g, p0, 1);
    g.events();
    expect(hw(g, 0).state).toBe('blocked');
    expect(set(g, P.HVM_PARAM_CALLBACK_IRQ, GSI_VIA, DOMID.DOMID_SELF, 1)).toBe(0n);
    expect(g.eventLog()).toEqual(['v0 blocked->running @0', 'v0 resumed 0 @0', 'upcall v0 @0']);
  });

  test.each([
    ['low byte 0 (the GSI is (uint8_t)via)', 0x100n],
    ['48, not below nr_gsis (NR_HVM_DOMU_IRQS = 48)', 48n],
    ['type 3 (above HVM_PARAM_CALLBACK_TYPE_VECTOR)', (3n << 56n) | 0xf3n],
  ])('a callback of GSI %s is no callback at all; the raw value is still stored', (_name, via) => {
    const { g, p0 } = twoPorts(via);
    expect(read(g, P.HVM_PARAM_CALLBACK_IRQ)).toBe(via);
    send(g, p0);
    expect(g.eventLog()).toEqual([]);
  });

  test('GSI 47, the last one, is a callback', () => {
    const { g, p0 } = twoPorts(47n);
    send(g, p0);
    expect(g.eventLog()).toEqual(['upcall v0 @0']);
  });

  test('setting CALLBACK_IRQ back to 0 turns delivery off', () => {
    const { g, p0 } = twoPorts(VECTOR_VIA);
    expect(set(g, P.HVM_PARAM_CALLBACK_IRQ, 0n)).toBe(0n);
    send(g, p0);
    expect(g.eventLog()).toEqual([]);
  });
});

describe(`HVMOP_flush_tlbs (${HVM} do_hvm_op, hvmop_flush_tlb_all)`, () => {
  const fillAll = (g: XenTestGuest) => {
    g.machine.vcpus.forEach((v) => {
      v.tlb.fill(0x1000n, 0x40_0000n, false);
      v.tlb.fill(0x2000n, 0x41_0000n, false);
      v.tlb.fill(0n, 0x42_0000n, true);
    });
  };

  test('a non-NULL argument is -EINVAL and flushes nothing', () => {
    const g = hvm({ vcpus: 3 });
    fillAll(g);
    expect(g.ret('hvm_op', HVMOP.HVMOP_flush_tlbs, g.alloc(8))).toBe(E('XEN_EINVAL'));
    expect(g.machine.vcpus.map((v) => v.tlb.size)).toEqual([3, 3, 3]);
  });

  test('flushes the TLB of every vCPU completely, global entries and every address space included', () => {
    const g = hvm({ vcpus: 3 });
    fillAll(g);
    expect(g.retOn(1, 'hvm_op', HVMOP.HVMOP_flush_tlbs, 0)).toBe(0n);
    expect(g.machine.vcpus.map((v) => v.tlb.snapshot())).toEqual([[], [], []] satisfies TlbEntry[][]);
  });
});

describe(`HVMOP_set_evtchn_upcall_vector (${HVM} hvmop_set_evtchn_upcall_vector)`, () => {
  test('an unreadable argument is -EFAULT', () => {
    expect(hvm().ret('hvm_op', HVMOP.HVMOP_set_evtchn_upcall_vector, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });

  test('a vector below 0x10 is -EINVAL, checked before the vCPU', () => {
    const g = hvm();
    expect(upcallVector(g, 0, 0x0f)).toBe(E('XEN_EINVAL'));
    expect(upcallVector(g, 0, 0)).toBe(E('XEN_EINVAL'));
    expect(upcallVector(g, 99, 0x0f)).toBe(E('XEN_EINVAL'));
  });

  test('a vCPU that does not exist is -ENOENT', () => {
    const g = hvm({ vcpus: 2 });
    expect(upcallVector(g, 2, 0xf3)).toBe(E('XEN_ENOENT'));
    expect(upcallVector(g, 0xffff_ffff, 0xf3)).toBe(E('XEN_ENOENT'));
  });

  test('the vector makes upcalls reach that vCPU without any CALLBACK_IRQ; other vCPUs still get none', () => {
    const g = hvm();
    const p0 = ipi(g, 0);
    const p1 = ipi(g, 1);
    expect(upcallVector(g, 1, 0x10)).toBe(0n);
    g.handleUpcall(1);
    g.events();
    send(g, p0);
    send(g, p1);
    expect(g.eventLog()).toEqual(['upcall v1 @0']);
  });

  test('setting it injects the vector at once, whether or not an event is pending (vlapic_set_irq): the callback runs once', () => {
    const g = hvm();
    expect(upcallVector(g, 1, 0xf3)).toBe(0n);
    expect(g.eventLog()).toEqual(['upcall v1 @0']);
    expect(g.vcpuInfo(1).pending).toBe(0);
  });

  test('an event left pending without a callback is delivered once when the vector is set', () => {
    const g = hvm();
    const p1 = ipi(g, 1);
    send(g, p1);
    g.events();
    expect(upcallVector(g, 1, 0xf3)).toBe(0n);
    expect(g.eventLog()).toEqual(['upcall v1 @0']);
  });

  test('setting it for a vCPU blocked in SCHEDOP_block wakes it (vcpu_kick) and enters its callback', () => {
    const g = hvm();
    blockOn(g, 1);
    g.advance(9);
    g.events();
    expect(upcallVector(g, 1, 0xf3)).toBe(0n);
    expect(g.eventLog()).toEqual(['v1 blocked->running @9', 'v1 resumed 0 @9', 'upcall v1 @9']);
  });

  test('HVMOP_get_time and HVMOP_guest_request_vm_event behave for HVM as for PV', () => {
    const g = hvm();
    g.advance(5_000n);
    const at = g.put(xen_hvm_get_time, {});
    expect(g.ret('hvm_op', HVMOP.HVMOP_get_time, at)).toBe(0n);
    expect(g.get(xen_hvm_get_time, at).now).toBe(5_000n);
    expect(g.ret('hvm_op', HVMOP.HVMOP_guest_request_vm_event, 0)).toBe(0n);
    expect(g.ret('hvm_op', HVMOP.HVMOP_guest_request_vm_event, at)).toBe(E('XEN_EINVAL'));
  });
});
