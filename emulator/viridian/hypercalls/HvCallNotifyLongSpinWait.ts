import { defineCall, SUCCESS } from './types';

/**
 * HvCallNotifyLongSpinWait (0x0008): the caller has spun for a long time on a lock; the
 * hypervisor may schedule something else. "There is no error status for this hypercall, only
 * HV_STATUS_SUCCESS" (TLFS hypercalls/HvCallNotifyLongSpinWait.md), so SpinCount and the
 * reserved half are not checked. The model counts the notification; virtual time does not move.
 */
export const HvCallNotifyLongSpinWait = defineCall({
  name: 'HVCALL_NOTIFY_LONG_SPIN_WAIT',
  shape: { rep: false, varHead: false, fast: true, inputHeader: 8, inputElement: 0, outputHeader: 0, outputElement: 0 },
  access: { kind: 'spin-wait' },
  source: 'TLFS hypercalls/HvCallNotifyLongSpinWait.md',
  handler: (ctx) => {
    ctx.vp.spinWaitNotifications++;
    return SUCCESS;
  },
});
