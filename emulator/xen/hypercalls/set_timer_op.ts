import { arg } from '../guestAccess';
import { OK } from '../outcome';
import { doSetTimerOp } from '../timers';
import { defineHypercall } from './types';

/** HYPERVISOR_set_timer_op(s_time_t timeout): xen/common/sched/core.c do_set_timer_op; always returns 0. */
export const set_timer_op = defineHypercall({
  name: 'set_timer_op',
  guests: ['pv', 'pvhvm'],
  source: 'xen/common/sched/core.c do_set_timer_op',
  handler(ctx, args) {
    doSetTimerOp(ctx.d, ctx.v, arg.long(args[0]));
    return OK;
  },
});
