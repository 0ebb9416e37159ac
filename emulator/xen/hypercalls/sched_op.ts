import { SCHEDOP, SHUTDOWN } from '../abi/sched';
import { sched_poll, sched_remote_shutdown, sched_shutdown, sched_watchdog } from '../abi/layouts';
import { isUsable } from '../evtchn/channelTable';
import { arg, copyFromGuest, guestHandleOkay, readGuestU32 } from '../guestAccess';
import { BLOCKED, OK, errno, returned, type XenOutcome } from '../outcome';
import type { XenDomain } from '../domain';
import { defineHypercall, type HypercallContext } from './types';

/** NR_DOMAIN_WATCHDOG_TIMERS (xen/common/sched/core.c). */
const NR_DOMAIN_WATCHDOG_TIMERS = 2;
/** The "fairly arbitrary limit" on SCHEDOP_poll ports. */
const MAX_POLL_PORTS = 128;

/** SCHEDOP_block (vcpu_block_enable_events): unmask events, then block unless one needs delivery. */
function block(ctx: HypercallContext): XenOutcome {
  const { d, v } = ctx;
  d.setUpcallMask(v, 0);
  // The check comes after the vCPU is marked blocked, so there is no lost-wakeup window.
  if (d.eventsNeedDelivery(v)) return OK;
  d.setRunState(v, 'blocked', true);
  return BLOCKED;
}

/** do_poll (xen/common/sched/core.c). */
function poll(ctx: HypercallContext, p: { ports: bigint; nr_ports: number; timeout: bigint }): XenOutcome {
  const { d, v } = ctx;
  if (p.nr_ports > MAX_POLL_PORTS) return errno('XEN_EINVAL');
  if (!guestHandleOkay(d, p.ports, BigInt(p.nr_ports), 4)) return errno('XEN_EFAULT');
  // The vCPU is now marked blocked and polling any port; every early exit below undoes that.
  if (d.eventsNeedDelivery(v)) return OK;
  let port = 0;
  for (let i = 0; i < p.nr_ports; i++) {
    const read = readGuestU32(d, p.ports, i);
    if (read === undefined) return errno('XEN_EFAULT');
    port = read;
    // evtchn_port_poll: invalid or unusable port -EINVAL, already pending: return at once.
    const chn = d.evtchn.get(port);
    if (!chn || !isUsable(chn)) return errno('XEN_EINVAL');
    if (d.isPendingBit(port)) return OK;
  }
  v.pollEvtchn = p.nr_ports === 1 ? port : -1;
  v.inPollMask = true;
  if (p.timeout !== 0n) {
    const clock = d.machine.clock;
    clock.cancel(v.pollTimer);
    // set_timer(&v->poll_timer, sched_poll->timeout) takes an s_time_t: a u64 timeout with bit 63
    // set is a negative, hence past, deadline and fires at once (do_poll).
    v.pollTimer = clock.schedule(BigInt.asIntN(64, p.timeout), `d${d.domid}v${v.id} poll timeout`, () => {
      v.pollTimer = undefined;
      // poll_timer_fn: only a vCPU still in the poll mask is woken.
      if (v.inPollMask) {
        v.inPollMask = false;
        d.unblock(v);
      }
    });
  }
  d.setRunState(v, 'blocked', true);
  return BLOCKED;
}

/** domain_watchdog (xen/common/sched/core.c). */
function watchdog(d: XenDomain, id: number, timeoutS: number): XenOutcome {
  if (id > NR_DOMAIN_WATCHDOG_TIMERS) return errno('XEN_EINVAL');
  const clock = d.machine.clock;
  const arm = (slot: number): void => {
    clock.cancel(d.watchdogs[slot]?.timer);
    const timer = clock.schedule(d.now + BigInt(timeoutS) * 1_000_000_000n, `d${d.domid} watchdog ${slot}`, () => {
      if (!d.shuttingDown) d.shutdown(SHUTDOWN.SHUTDOWN_watchdog);
    });
    d.watchdogs[slot] = { timeoutS, timer };
  };
  if (id === 0) {
    for (let slot = 0; slot < NR_DOMAIN_WATCHDOG_TIMERS; slot++) {
      if (d.watchdogs[slot]) continue;
      arm(slot);
      return returned(slot + 1);
    }
    return errno('XEN_ENOSPC');
  }
  const slot = id - 1;
  const current = d.watchdogs[slot];
  if (!current) return errno('XEN_EINVAL');
  if (timeoutS === 0) {
    clock.cancel(current.timer);
    d.watchdogs[slot] = undefined;
  } else {
    arm(slot);
  }
  return OK;
}

/** HYPERVISOR_sched_op(int cmd, void *arg): xen/common/sched/core.c do_sched_op. */
export const sched_op = defineHypercall({
  name: 'sched_op',
  guests: ['pv', 'pvhvm'],
  source: 'xen/common/sched/core.c do_sched_op',
  handler(ctx, args) {
    const cmd = arg.int(args[0]);
    const ptr = args[1];
    const { xen, d } = ctx;
    switch (cmd) {
      case SCHEDOP.SCHEDOP_yield:
        return OK; // vcpu_yield: the model has no other vCPU contending for the CPU.
      case SCHEDOP.SCHEDOP_block:
        return block(ctx);
      case SCHEDOP.SCHEDOP_shutdown: {
        const a = copyFromGuest(d, ptr, sched_shutdown);
        if (!a) return errno('XEN_EFAULT');
        // The reason is passed as a u8 and not range-checked; the vCPUs stop and the call's 0 is
        // seen only if the domain is ever resumed.
        d.shutdown(a.reason & 0xff);
        return OK;
      }
      case SCHEDOP.SCHEDOP_poll: {
        const a = copyFromGuest(d, ptr, sched_poll);
        if (!a) return errno('XEN_EFAULT');
        return poll(ctx, a);
      }
      case SCHEDOP.SCHEDOP_remote_shutdown: {
        const a = copyFromGuest(d, ptr, sched_remote_shutdown);
        if (!a) return errno('XEN_EFAULT');
        const target = xen.domainById(a.domain_id);
        if (!target) return errno('XEN_ESRCH');
        // xsm_schedop_shutdown(XSM_DM_PRIV): only a device model or the control domain.
        if (d.domid !== 0) return errno('XEN_EPERM');
        target.shutdown(a.reason & 0xff);
        return OK;
      }
      case SCHEDOP.SCHEDOP_shutdown_code: {
        const a = copyFromGuest(d, ptr, sched_shutdown);
        if (!a) return errno('XEN_EFAULT');
        if (d.shutdownCode === undefined) d.shutdownCode = a.reason & 0xff;
        return OK;
      }
      case SCHEDOP.SCHEDOP_watchdog: {
        const a = copyFromGuest(d, ptr, sched_watchdog);
        if (!a) return errno('XEN_EFAULT');
        return watchdog(d, a.id, a.timeout);
      }
      case SCHEDOP.SCHEDOP_pin_override:
        // Checked before the argument is read: only the hardware domain may pin.
        return errno('XEN_EPERM');
      default:
        return errno('XEN_ENOSYS');
    }
  },
});
