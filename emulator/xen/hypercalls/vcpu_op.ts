import { VCPUOP, VCPU_SSHOTTMR } from '../abi/vcpu';
import {
  VCPU_GUEST_CONTEXT_SIZE,
  vcpu_register_vcpu_info,
  vcpu_runstate_info,
  vcpu_set_periodic_timer,
  vcpu_set_singleshot_timer,
  vcpu_info,
} from '../abi/layouts';
import { SHUTDOWN } from '../abi/sched';
import { isFault } from '../../machine/memory';
import { arg, copyFromGuest, copyToGuest, isNullHandle, readGuestBytes } from '../guestAccess';
import { OK, errno, returned, unimplemented, type XenOutcome } from '../outcome';
import { sendTimerEvent, setPeriodic, setSingleshot, stopSingleshot } from '../timers';
import type { XenDomain } from '../domain';
import type { XenVcpu } from '../xenVcpu';
import { defineHypercall, type HypercallContext } from './types';

/** sizeof(struct vcpu_hvm_context) (xen/include/public/hvm/hvm_vcpu.h). */
const VCPU_HVM_CONTEXT_SIZE = 128;
/** MILLISECS(1): the shortest period VCPUOP_set_periodic_timer accepts. */
const MIN_PERIOD_NS = 1_000_000n;
/** STIME_DELTA_MAX = ~0ULL >> 2 (xen/include/xen/time.h). */
const STIME_DELTA_MAX = (1n << 62n) - 1n;
const PAGE_SIZE = 4096;

/** VCPUOP_initialise: the context is copied in and (not modelled) validated; -EEXIST once initialised. */
function initialise(d: XenDomain, target: XenVcpu, ptr: bigint): XenOutcome {
  // common_vcpu_op: a PV vCPU still on the dummy vcpu_info cannot be initialised.
  if (!d.isHvm && target.vcpuInfoGpa === null) return errno('XEN_EINVAL');
  if (!readGuestBytes(d, ptr, d.isHvm ? VCPU_HVM_CONTEXT_SIZE : VCPU_GUEST_CONTEXT_SIZE)) return errno('XEN_EFAULT');
  if (target.initialised) return errno('XEN_EEXIST');
  // arch_set_info_guest / arch_set_info_hvm_guest would validate the register state here; the
  // model accepts any context (it has no guest registers to load).
  target.initialised = true;
  return OK;
}

/** VCPUOP_down: the last vCPU going down powers the domain off. */
function down(d: XenDomain, target: XenVcpu): XenOutcome {
  const othersUp = d.vcpus.some((w) => w !== target && w.hw.state !== 'down');
  if (!othersUp) {
    d.shutdown(SHUTDOWN.SHUTDOWN_poweroff);
    return OK;
  }
  if (target.hw.state !== 'down') d.setRunState(target, 'down');
  return OK;
}

/** VCPUOP_get_runstate_info: vcpu_runstate_get adds the time spent so far in the current state. */
function runstateInfo(d: XenDomain, target: XenVcpu): Record<string, bigint | number> {
  const rs = target.runstate;
  const time = [...rs.time];
  time[rs.state] = (time[rs.state] as bigint) + (d.now - rs.entryTime);
  return {
    state: rs.state,
    state_entry_time: rs.entryTime,
    time_running: time[0] as bigint,
    time_runnable: time[1] as bigint,
    time_blocked: time[2] as bigint,
    time_offline: time[3] as bigint,
  };
}

/** VCPUOP_set_singleshot_timer, per profile (VCPU_SSHOTTMR_future ignored from Xen 4.18). */
function setSingleshotTimer(ctx: HypercallContext, target: XenVcpu, ptr: bigint): XenOutcome {
  const { xen, d, v } = ctx;
  if (target !== v) return errno('XEN_EINVAL');
  const a = copyFromGuest(d, ptr, vcpu_set_singleshot_timer);
  if (!a) return errno('XEN_EFAULT');
  // timeout_abs_ns is a u64 compared with NOW(): a deadline with bit 63 set is not "past" here.
  const past = a.timeout_abs_ns < d.now;
  switch (xen.profile.singleshotPast) {
    case 'inject':
      if (past) {
        stopSingleshot(d, v);
        sendTimerEvent(d, v);
        return OK;
      }
      break;
    case 'etime-if-future':
      if ((a.flags & VCPU_SSHOTTMR.VCPU_SSHOTTMR_future) !== 0 && past) return errno('XEN_ETIME');
      break;
    default:
      return xen.profile.singleshotPast satisfies never;
  }
  // s_time_t: a deadline with bit 63 set is negative, i.e. in the past, and fires at once.
  setSingleshot(d, v, BigInt.asIntN(64, a.timeout_abs_ns) < 0n ? d.now : a.timeout_abs_ns);
  return OK;
}

/** VCPUOP_register_vcpu_info, per profile. */
function registerVcpuInfo(ctx: HypercallContext, target: XenVcpu, ptr: bigint): XenOutcome {
  const { xen, d, v } = ctx;
  const a = copyFromGuest(d, ptr, vcpu_register_vcpu_info);
  if (!a) return errno('XEN_EFAULT');
  const gfn = a.mfn;
  const offset = a.offset;
  switch (xen.profile.registerVcpuInfo) {
    case 'map_guest_area': {
      // common_vcpu_op: gaddr = gfn_to_gaddr(mfn) + offset must not overflow or fail to round-trip.
      const gaddr = BigInt.asUintN(64, (gfn << 12n) + BigInt(offset));
      if (gaddr === (1n << 64n) - 1n || gaddr >> 12n !== gfn) return errno('XEN_EINVAL');
      if (target.vcpuInfoRegistered) return errno('XEN_EBUSY');
      // map_guest_area: the area must not cross a page and must be xen_ulong_t aligned.
      if (gaddr >> 12n !== (gaddr + 63n) >> 12n || gaddr % 8n !== 0n) return errno('XEN_ENXIO');
      return mapVcpuInfo(d, target, Number(gaddr));
    }
    case 'map_vcpu_info': {
      // map_vcpu_info (Xen 4.17).
      if (offset > PAGE_SIZE - vcpu_info.size || offset % 8 !== 0) return errno('XEN_ENXIO');
      if (target.vcpuInfoRegistered) return errno('XEN_EINVAL');
      if (target !== v && target.hw.state !== 'down') return errno('XEN_EINVAL');
      const gaddr = (gfn << 12n) + BigInt(offset);
      return mapVcpuInfo(d, target, Number(gaddr));
    }
    default:
      return xen.profile.registerVcpuInfo satisfies never;
  }
}

/**
 * The part of map_guest_area / map_vcpu_info that maps the page and moves vcpu_info: the page
 * must be the domain's own RAM (-EINVAL otherwise); the old contents are copied (or a fresh
 * masked vcpu_info is made from the dummy), every selector bit and the upcall are set pending,
 * and vcpu_time_info is refreshed.
 */
function mapVcpuInfo(d: XenDomain, target: XenVcpu, gpa: number): XenOutcome {
  const gfn = Math.floor(gpa / PAGE_SIZE);
  // check_get_page_from_gfn (4.18+, xen/common/memory.c) and map_vcpu_info (4.17) answer -EINVAL
  // when get_page_from_gfn finds no page: a hole, or a grant-mapped frame. For an HVM guest the
  // p2m type of a grant mapping (p2m_grant_map_rw/ro) is neither RAM nor foreign, so
  // get_page_from_mfn_and_type (xen/arch/x86/mm/p2m.c) takes no reference; for a PV guest the
  // frame belongs to the granting domain and get_page(page, d) fails.
  if (!d.memory.isPopulated(gfn) || !d.memory.inSpace(gfn) || d.memory.isForeign(gfn)) return errno('XEN_EINVAL');
  // get_page_type(pg, PGT_writable_page) fails for a page typed as a PV page table or descriptor
  // page (-EACCES in 4.18+, -EINVAL in 4.17); page types are not modelled, so every RAM page of
  // the domain is writable here.
  if (d.memory.check(gpa, vcpu_info.size, 'write')) return errno('XEN_EINVAL');
  const old = d.vcpuInfo(target);
  const image = old.mem.readBytes(old.gpa, vcpu_info.size);
  if (isFault(image)) return errno('XEN_EINVAL');
  if (target.vcpuInfoGpa === null) {
    image.fill(0);
    image[vcpu_info.fields.evtchn_upcall_mask.offset] = 1;
  }
  d.memory.writeBytes(gpa, image);
  target.vcpuInfoGpa = gpa;
  target.vcpuInfoRegistered = true;
  d.memory.write64(gpa + vcpu_info.fields.evtchn_pending_sel.offset, (1n << 64n) - 1n);
  d.markEventsPending(target);
  d.updateVcpuTime(target);
  return OK;
}

/** HYPERVISOR_vcpu_op(int cmd, unsigned vcpuid, void *arg): xen/arch/x86/domain.c do_vcpu_op and common_vcpu_op. */
export const vcpu_op = defineHypercall({
  name: 'vcpu_op',
  guests: ['pv', 'pvhvm'],
  source: 'xen/arch/x86/domain.c do_vcpu_op; xen/common/domain.c common_vcpu_op',
  handler(ctx, args) {
    const cmd = arg.int(args[0]);
    const vcpuid = arg.uint(args[1]);
    const ptr = args[2];
    const { d, v } = ctx;
    const target = d.vcpu(vcpuid);
    if (!target) return errno('XEN_ENOENT');
    switch (cmd) {
      case VCPUOP.VCPUOP_initialise:
        return initialise(d, target, ptr);
      case VCPUOP.VCPUOP_up: {
        if (!target.initialised) return errno('XEN_EINVAL');
        if (target.hw.state === 'down') {
          d.setRunState(target, 'running');
          d.updateVcpuTime(target); // a vCPU scheduled in gets its time record refreshed
        }
        return OK;
      }
      case VCPUOP.VCPUOP_down:
        return down(d, target);
      case VCPUOP.VCPUOP_is_up:
        return returned(target.hw.state === 'down' ? 0 : 1);
      case VCPUOP.VCPUOP_get_runstate_info:
        return copyToGuest(d, ptr, vcpu_runstate_info, runstateInfo(d, target)) ? OK : errno('XEN_EFAULT');
      case VCPUOP.VCPUOP_register_runstate_memory_area:
        return unimplemented('VCPUOP_register_runstate_memory_area: runstate area updates at every context switch are not modelled');
      case VCPUOP.VCPUOP_set_periodic_timer: {
        const a = copyFromGuest(d, ptr, vcpu_set_periodic_timer);
        if (!a) return errno('XEN_EFAULT');
        // period_ns is read into a u64 and compared with signed limits.
        const period = BigInt.asIntN(64, a.period_ns);
        if (period < MIN_PERIOD_NS) return errno('XEN_EINVAL');
        if (period > STIME_DELTA_MAX) return errno('XEN_EINVAL');
        setPeriodic(d, target, period);
        return OK;
      }
      case VCPUOP.VCPUOP_stop_periodic_timer:
        setPeriodic(d, target, 0n);
        return OK;
      case VCPUOP.VCPUOP_set_singleshot_timer:
        return setSingleshotTimer(ctx, target, ptr);
      case VCPUOP.VCPUOP_stop_singleshot_timer:
        if (target !== v) return errno('XEN_EINVAL');
        stopSingleshot(d, v);
        return OK;
      case VCPUOP.VCPUOP_register_vcpu_info:
        return registerVcpuInfo(ctx, target, ptr);
      case VCPUOP.VCPUOP_send_nmi:
        if (!isNullHandle(ptr)) return errno('XEN_EINVAL');
        return unimplemented('VCPUOP_send_nmi: NMI delivery to the guest is not modelled');
      case VCPUOP.VCPUOP_get_physid:
        return errno('XEN_EINVAL'); // only for a pinned vCPU of the hardware domain
      case VCPUOP.VCPUOP_register_vcpu_time_memory_area:
      case VCPUOP.VCPUOP_register_runstate_phys_area:
      case VCPUOP.VCPUOP_register_vcpu_time_phys_area:
        return unimplemented(`vcpu_op ${cmd}: secondary time and runstate areas are not modelled`);
      default:
        return errno('XEN_ENOSYS');
    }
  },
});
