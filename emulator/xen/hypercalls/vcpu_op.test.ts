import { VCPUOP, RUNSTATE } from '../abi/vcpu';
import { EVTCHNOP } from '../abi/event_channel';
import { SHUTDOWN } from '../abi/sched';
import { SHARED_INFO, VCPU_GUEST_CONTEXT_SIZE, VCPU_INFO_TIME, evtchn_bind_ipi, evtchn_port_arg, gnttab_map_grant_ref, vcpu_info, vcpu_register_vcpu_info, vcpu_runstate_info, vcpu_time_info } from '../abi/layouts';
import { GNTMAP, GNTST, GNTTABOP } from '../abi/grant_table';
import type { GuestType } from '../config';
import type { XenProfileName } from '../profiles';
import { E, XenTestGuest } from '../xenTestkit';

const DOM = 'xen/common/domain.c common_vcpu_op';
const X86 = 'xen/arch/x86/domain.c do_vcpu_op';
const BAD_PTR = 0x7fff_f000_0000n;

const vcpuOp = (g: XenTestGuest, cmd: number, vcpu: number, arg: bigint = 0n) => g.ret('vcpu_op', cmd, vcpu, arg);

/** Maps the peer's grant `ref` at guest frame `gfn` (GNTTABOP_map_grant_ref with a host mapping). */
const mapGrant = (g: XenTestGuest, ref: number, gfn: number, readonly: boolean): void => {
  const at = g.put(gnttab_map_grant_ref, { host_addr: BigInt(gfn) * 4096n, flags: GNTMAP.GNTMAP_host_map | (readonly ? GNTMAP.GNTMAP_readonly : 0), ref, dom: 0 });
  expect(g.ret('grant_table_op', GNTTABOP.GNTTABOP_map_grant_ref, at, 1)).toBe(0n);
  expect(g.get(gnttab_map_grant_ref, at).status).toBe(GNTST.GNTST_okay);
};

describe(`vcpu_op dispatch (${X86})`, () => {
  test('a vCPU that does not exist is -ENOENT, before the command is looked at', () => {
    const g = new XenTestGuest({ vcpus: 2 });
    expect(vcpuOp(g, VCPUOP.VCPUOP_is_up, 2)).toBe(E('XEN_ENOENT'));
    expect(vcpuOp(g, 99, 2)).toBe(E('XEN_ENOENT'));
  });

  test('vcpuid is an unsigned int: the upper 32 bits of the register are ignored', () => {
    const g = new XenTestGuest({ vcpus: 2 });
    expect(vcpuOp(g, VCPUOP.VCPUOP_is_up, 0x1_0000_0001 as unknown as number)).toBe(1n);
  });

  test('an unknown command is -ENOSYS', () => {
    expect(vcpuOp(new XenTestGuest(), 16, 0)).toBe(E('XEN_ENOSYS'));
  });

  test('VCPUOP_send_nmi with a non-NULL argument is -EINVAL; NMI delivery itself is not modelled', () => {
    const g = new XenTestGuest();
    expect(vcpuOp(g, VCPUOP.VCPUOP_send_nmi, 1, 0x1000n)).toBe(E('XEN_EINVAL'));
    expect(g.call('vcpu_op', VCPUOP.VCPUOP_send_nmi, 1, 0)).toMatchObject({ kind: 'unimplemented' });
  });

  test('VCPUOP_get_physid is -EINVAL for a domU (only pinned hardware-domain vCPUs)', () => {
    expect(vcpuOp(new XenTestGuest(), VCPUOP.VCPUOP_get_physid, 0, 0x1000n)).toBe(E('XEN_EINVAL'));
  });

  test('runstate and time-area registrations are reported as not modelled', () => {
    const g = new XenTestGuest();
    for (const cmd of [VCPUOP.VCPUOP_register_runstate_memory_area, VCPUOP.VCPUOP_register_vcpu_time_memory_area, VCPUOP.VCPUOP_register_runstate_phys_area, VCPUOP.VCPUOP_register_vcpu_time_phys_area]) {
      expect(g.call('vcpu_op', cmd, 0, g.alloc(8))).toMatchObject({ kind: 'unimplemented' });
    }
  });
});

describe(`VCPUOP_initialise and VCPUOP_up (${DOM}; xen/arch/x86/domain.c arch_initialise_vcpu)`, () => {
  test('a vCPU that was never initialised cannot be brought up: -EINVAL', () => {
    const g = new XenTestGuest({ vcpus: 2, online: [0] });
    expect(vcpuOp(g, VCPUOP.VCPUOP_up, 1)).toBe(E('XEN_EINVAL'));
    expect(g.machine.vcpus[1]?.state).toBe('down');
  });

  test('initialise copies the context in, then up wakes the vCPU', () => {
    const g = new XenTestGuest({ vcpus: 2, online: [0] });
    const ctx = g.alloc(VCPU_GUEST_CONTEXT_SIZE);
    expect(vcpuOp(g, VCPUOP.VCPUOP_initialise, 1, ctx)).toBe(0n);
    expect(vcpuOp(g, VCPUOP.VCPUOP_up, 1)).toBe(0n);
    expect(g.machine.vcpus[1]?.state).toBe('running');
    expect(g.eventLog()).toEqual(['v1 down->running @0']);
    expect(vcpuOp(g, VCPUOP.VCPUOP_up, 1)).toBe(0n); // already up: nothing to wake
  });

  test('initialising an initialised vCPU is -EEXIST', () => {
    const g = new XenTestGuest();
    expect(vcpuOp(g, VCPUOP.VCPUOP_initialise, 1, g.alloc(VCPU_GUEST_CONTEXT_SIZE))).toBe(E('XEN_EEXIST'));
  });

  test('an unreadable context is -EFAULT (default_initialise_vcpu)', () => {
    const g = new XenTestGuest({ vcpus: 2, online: [0] });
    expect(vcpuOp(g, VCPUOP.VCPUOP_initialise, 1, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });

  test('a PV vCPU without a vcpu_info of its own (id >= 32, nothing registered) cannot be initialised: -EINVAL', () => {
    const g = new XenTestGuest({ vcpus: 33, online: [0] });
    expect(vcpuOp(g, VCPUOP.VCPUOP_initialise, 32, g.alloc(VCPU_GUEST_CONTEXT_SIZE))).toBe(E('XEN_EINVAL'));
  });

  test('an HVM vCPU reads a vcpu_hvm_context (128 bytes) and has no vcpu_info requirement', () => {
    const g = new XenTestGuest({ vcpus: 33, online: [0], xen: { guestType: 'pvhvm' } });
    expect(vcpuOp(g, VCPUOP.VCPUOP_initialise, 32, g.alloc(128))).toBe(0n);
  });
});

describe(`VCPUOP_down and VCPUOP_is_up (${DOM})`, () => {
  test('a vCPU goes down; is_up answers 0 for it and 1 for a running or blocked vCPU', () => {
    const g = new XenTestGuest({ vcpus: 3 });
    expect(vcpuOp(g, VCPUOP.VCPUOP_down, 2)).toBe(0n);
    expect(g.machine.vcpus[2]?.state).toBe('down');
    expect(vcpuOp(g, VCPUOP.VCPUOP_is_up, 2)).toBe(0n);
    expect(vcpuOp(g, VCPUOP.VCPUOP_is_up, 0)).toBe(1n);
    expect(vcpuOp(g, VCPUOP.VCPUOP_down, 2)).toBe(0n); // already down
  });

  test('taking down the last vCPU that is up shuts the domain down with SHUTDOWN_poweroff', () => {
    const g = new XenTestGuest({ vcpus: 2 });
    expect(vcpuOp(g, VCPUOP.VCPUOP_down, 1)).toBe(0n);
    g.events();
    expect(vcpuOp(g, VCPUOP.VCPUOP_down, 0)).toBe(0n);
    expect(g.machine.shutdown).toEqual({ reason: SHUTDOWN.SHUTDOWN_poweroff, time: 0n });
    expect(g.eventLog()).toEqual([`shutdown ${SHUTDOWN.SHUTDOWN_poweroff} @0`]);
  });
});

describe(`VCPUOP_get_runstate_info (${DOM}; xen/common/sched/core.c vcpu_runstate_get)`, () => {
  test('reports the state, its entry time, and time spent per state including the current one', () => {
    const g = new XenTestGuest({ vcpus: 2, online: [0] });
    g.advance(1000);
    const at = g.alloc(vcpu_runstate_info.size);
    expect(vcpuOp(g, VCPUOP.VCPUOP_get_runstate_info, 1, at)).toBe(0n);
    expect(g.get(vcpu_runstate_info, at)).toEqual({
      state: RUNSTATE.RUNSTATE_offline,
      state_entry_time: 0n,
      time_running: 0n,
      time_runnable: 0n,
      time_blocked: 0n,
      time_offline: 1000n,
    });
    expect(vcpuOp(g, VCPUOP.VCPUOP_initialise, 1, g.alloc(VCPU_GUEST_CONTEXT_SIZE))).toBe(0n);
    expect(vcpuOp(g, VCPUOP.VCPUOP_up, 1)).toBe(0n);
    g.advance(500);
    expect(vcpuOp(g, VCPUOP.VCPUOP_get_runstate_info, 1, at)).toBe(0n);
    expect(g.get(vcpu_runstate_info, at)).toMatchObject({ state: RUNSTATE.RUNSTATE_running, state_entry_time: 1000n, time_running: 500n, time_offline: 1000n });
  });

  test('an unwritable buffer is -EFAULT', () => {
    expect(vcpuOp(new XenTestGuest(), VCPUOP.VCPUOP_get_runstate_info, 0, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });
});

describe(`VCPUOP_register_vcpu_info, Xen 4.18 and later (${DOM}, map_guest_area)`, () => {
  const register = (g: XenTestGuest, vcpu: number, mfn: bigint, offset: number) =>
    vcpuOp(g, VCPUOP.VCPUOP_register_vcpu_info, vcpu, g.put(vcpu_register_vcpu_info, { mfn, offset }));

  test('moves vcpu_info: copies the old contents, sets every selector bit and the upcall, refreshes the time record', () => {
    const g = new XenTestGuest();
    g.setUpcallMask(1, 0);
    expect(register(g, 1, 0x200n, 0x40)).toBe(0n);
    const gpa = 0x200 * 4096 + 0x40;
    expect(g.xen.guest.vcpus[1]?.vcpuInfoGpa).toBe(gpa);
    expect(g.vcpuInfo(1)).toEqual({ pending: 1, mask: 0, sel: (1n << 64n) - 1n });
    const time = g.get(vcpu_time_info, BigInt(gpa + VCPU_INFO_TIME));
    expect(time.version % 2).toBe(0);
    expect(time.version).toBeGreaterThan(0);
    expect(g.eventLog()).toEqual(['upcall v1 @0']); // the deliberately spurious upcall
  });

  test('after the move, events for the vCPU set its new vcpu_info, not the one in shared_info', () => {
    const g = new XenTestGuest();
    expect(register(g, 1, 0x200n, 0)).toBe(0n);
    g.handleUpcall(1);
    const bind = g.put(evtchn_bind_ipi, { vcpu: 1 });
    g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_bind_ipi, bind);
    g.ret('event_channel_op', EVTCHNOP.EVTCHNOP_send, g.put(evtchn_port_arg, { port: 1 }));
    expect(g.vcpuInfo(1)).toMatchObject({ pending: 1, sel: 1n });
    const legacy = g.xen.guest.sharedInfoGpa + SHARED_INFO.vcpu_info + 64 + vcpu_info.fields.evtchn_pending_sel.offset;
    expect(g.machine.memory.read64(legacy)).toBe(0n);
  });

  test('registering twice is -EBUSY', () => {
    const g = new XenTestGuest();
    expect(register(g, 0, 0x200n, 0)).toBe(0n);
    expect(register(g, 0, 0x201n, 0)).toBe(E('XEN_EBUSY'));
  });

  test('an area crossing a page or not 8-byte aligned is -ENXIO', () => {
    const g = new XenTestGuest();
    expect(register(g, 0, 0x200n, 4096 - 32)).toBe(E('XEN_ENXIO'));
    expect(register(g, 0, 0x200n, 4)).toBe(E('XEN_ENXIO'));
  });

  test('a frame that is not guest RAM is -EINVAL (check_get_page_from_gfn)', () => {
    const g = new XenTestGuest({ ramPages: 1024 });
    expect(register(g, 0, 3000n, 0)).toBe(E('XEN_EINVAL'));
  });

  test('a gfn whose address overflows is -EINVAL', () => {
    expect(register(new XenTestGuest(), 0, 1n << 60n, 0)).toBe(E('XEN_EINVAL'));
  });

  test.each(['pvhvm', 'pv'] as GuestType[])('%s: a grant-mapped gfn, writable or read-only, is -EINVAL (no page from check_get_page_from_gfn), and nothing is registered', (guestType) => {
    const g = new XenTestGuest({ xen: { guestType } });
    expect(g.xen.peerActions.grantAccess(10, 8, false)).toBe(true);
    expect(g.xen.peerActions.grantAccess(11, 9, true)).toBe(true);
    mapGrant(g, 10, 0x800, false);
    mapGrant(g, 11, 0x801, true);
    expect(register(g, 0, 0x800n, 0)).toBe(E('XEN_EINVAL'));
    expect(register(g, 0, 0x801n, 0)).toBe(E('XEN_EINVAL'));
    expect(g.xen.guest.vcpus[0]?.vcpuInfoRegistered).toBe(false);
    expect(register(g, 0, 0x200n, 0)).toBe(0n);
  });

  test('another running vCPU may be the target', () => {
    expect(register(new XenTestGuest(), 1, 0x200n, 0)).toBe(0n);
  });

  test('a vCPU at or above 32 gets a zeroed vcpu_info with events masked, then the spurious upcall flags', () => {
    const g = new XenTestGuest({ vcpus: 33, online: [0] });
    expect(register(g, 32, 0x200n, 0)).toBe(0n);
    expect(g.vcpuInfo(32)).toEqual({ pending: 1, mask: 1, sel: (1n << 64n) - 1n });
  });

  test('an unreadable argument is -EFAULT', () => {
    expect(vcpuOp(new XenTestGuest(), VCPUOP.VCPUOP_register_vcpu_info, 0, BAD_PTR)).toBe(E('XEN_EFAULT'));
  });
});

describe('VCPUOP_register_vcpu_info, Xen 4.17 (xen/common/domain.c map_vcpu_info at RELEASE-4.17.0)', () => {
  const profile: XenProfileName = 'xen-4.17';
  const register = (g: XenTestGuest, vcpu: number, mfn: bigint, offset: number) =>
    vcpuOp(g, VCPUOP.VCPUOP_register_vcpu_info, vcpu, g.put(vcpu_register_vcpu_info, { mfn, offset }));

  test('offset beyond PAGE_SIZE - sizeof(vcpu_info) or misaligned is -ENXIO, checked first', () => {
    const g = new XenTestGuest({ xen: { profile } });
    expect(register(g, 0, 0x200n, 4096 - 56)).toBe(E('XEN_ENXIO'));
    expect(register(g, 0, 0x200n, 12)).toBe(E('XEN_ENXIO'));
  });

  test('registering twice is -EINVAL (not -EBUSY)', () => {
    const g = new XenTestGuest({ xen: { profile } });
    expect(register(g, 0, 0x200n, 0)).toBe(0n);
    expect(register(g, 0, 0x201n, 0)).toBe(E('XEN_EINVAL'));
  });

  test('another vCPU must be down: a running one is -EINVAL', () => {
    const g = new XenTestGuest({ vcpus: 3, online: [0, 1], xen: { profile } });
    expect(register(g, 1, 0x200n, 0)).toBe(E('XEN_EINVAL'));
    expect(register(g, 2, 0x201n, 0)).toBe(0n);
  });

  test('a frame that is not guest RAM is -EINVAL', () => {
    expect(register(new XenTestGuest({ xen: { profile } }), 0, 3000n, 0)).toBe(E('XEN_EINVAL'));
  });

  test('a grant-mapped gfn is -EINVAL (get_page_from_gfn: the frame belongs to the granting domain)', () => {
    const g = new XenTestGuest({ xen: { profile } });
    expect(g.xen.peerActions.grantAccess(10, 8, false)).toBe(true);
    mapGrant(g, 10, 0x800, false);
    expect(register(g, 0, 0x800n, 0)).toBe(E('XEN_EINVAL'));
  });
});
