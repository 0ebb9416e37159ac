import { VIRQ } from './abi/event_channel';
import type { XenDomain } from './domain';
import type { XenVcpu } from './xenVcpu';

/** MILLISECS(100): the fallback deadline do_set_timer_op uses for huge or negative timeouts. */
const HUNDRED_MS = 100_000_000n;

/**
 * send_timer_event (xen/arch/x86/time.c) -> send_guest_vcpu_virq(v, VIRQ_TIMER): set the vCPU's
 * VIRQ_TIMER port pending, if one is bound.
 */
export function sendTimerEvent(d: XenDomain, v: XenVcpu): void {
  const port = v.virqToEvtchn[VIRQ.VIRQ_TIMER] ?? 0;
  if (port === 0) return;
  d.setPending(v.id, port);
}

/** set_timer(&v->singleshot_timer, deadline): re-arms the one-shot timer (a past deadline fires at once). */
export function setSingleshot(d: XenDomain, v: XenVcpu, deadline: bigint): void {
  const clock = d.machine.clock;
  clock.cancel(v.singleshot);
  v.singleshot = clock.schedule(deadline, `d${d.domid}v${v.id} singleshot`, () => {
    v.singleshot = undefined;
    sendTimerEvent(d, v);
  });
}

/** stop_timer(&v->singleshot_timer). */
export function stopSingleshot(d: XenDomain, v: XenVcpu): void {
  d.machine.clock.cancel(v.singleshot);
  v.singleshot = undefined;
}

/**
 * do_set_timer_op (xen/common/sched/core.c): 0 stops the timer; a negative timeout, or one more
 * than 2^50 ns ahead, becomes NOW() + 100 ms (the Linux jiffies-wrap workaround); anything else
 * arms the timer at the absolute time given.
 */
export function doSetTimerOp(d: XenDomain, v: XenVcpu, timeout: bigint): void {
  const signed = BigInt.asIntN(64, timeout);
  const offset = signed - d.now;
  if (signed === 0n) {
    stopSingleshot(d, v);
  } else if (signed < 0n || (offset > 0n && BigInt.asUintN(32, offset >> 50n) !== 0n)) {
    setSingleshot(d, v, d.now + HUNDRED_MS);
  } else {
    setSingleshot(d, v, signed);
  }
}

/**
 * vcpu_periodic_timer_work_locked: when a period has elapsed since the last event, send one now;
 * then arm the timer for the next period. Runs when the vCPU is scheduled in and when it fires.
 *
 * Xen sends the event, then records periodic_last_event and arms the timer; the order cannot be
 * seen there because a woken vCPU is scheduled later. Here the event can wake the vCPU at once,
 * and the wake re-enters this function (startPeriodicWork) or, if the vCPU blocks again, stops the
 * timer (stopPeriodicTimer). So the state and the timer are updated first and the event is sent
 * last: the nested call finds no period elapsed, and a stop made by it is not undone.
 */
function periodicWork(d: XenDomain, v: XenVcpu): void {
  if (v.periodicPeriod === 0n) return;
  const clock = d.machine.clock;
  const now = d.now;
  let next = v.periodicLast + v.periodicPeriod;
  const due = now >= next;
  if (due) {
    v.periodicLast = now;
    next = now + v.periodicPeriod;
  }
  clock.cancel(v.periodicTimer);
  v.periodicTimer = clock.schedule(next, `d${d.domid}v${v.id} periodic`, () => {
    v.periodicTimer = undefined;
    periodicWork(d, v);
  });
  if (due) sendTimerEvent(d, v);
}

/** Called when a vCPU starts running (sched_context_switch -> vcpu_periodic_timer_work). */
export function startPeriodicWork(d: XenDomain, v: XenVcpu): void {
  periodicWork(d, v);
}

/** Called when a vCPU stops running (sched_context_switch: stop_timer(&prev->periodic_timer)). */
export function stopPeriodicTimer(d: XenDomain, v: XenVcpu): void {
  d.machine.clock.cancel(v.periodicTimer);
  v.periodicTimer = undefined;
}

/**
 * vcpu_set_periodic_timer: stop, set the period, and do the work at once. Xen does this whatever
 * the target vCPU is doing, so a vCPU that is down or blocked gets an event when a period has
 * elapsed since its last one, and a timer that runs until it is next scheduled out.
 */
export function setPeriodic(d: XenDomain, v: XenVcpu, period: bigint): void {
  stopPeriodicTimer(d, v);
  v.periodicPeriod = period;
  if (period !== 0n) periodicWork(d, v);
}
