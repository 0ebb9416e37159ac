import fc from 'fast-check';
import type { Step } from '../../spec/scenario';
import { call, subop } from './call';
import { badPointer, deadline, domid, edged, leHex, likelyPort, port } from './values';

/*
 * sched_op and set_timer_op (xen/include/public/sched.h, xen/common/sched/core.c do_sched_op,
 * do_poll, do_set_timer_op; xen/common/shutdown.c). Shutdown ends the domain, so it is rare.
 */

/** The ports array of SCHEDOP_poll: placed in the scratch area, or a bad pointer. */
const pollPorts = fc.oneof(
  { arbitrary: fc.array(fc.oneof(likelyPort, port), { minLength: 0, maxLength: 4 }).map((ports) => ({ u32s: ports })), weight: 6 },
  { arbitrary: badPointer.map((ptr) => ({ ptr })), weight: 1 },
);

/** SCHEDOP_poll: its struct points at the ports, so both go through a store of the array first. */
const poll: fc.Arbitrary<Step[]> = fc
  .tuple(pollPorts, edged([1, 0, 2, 3, 128, 129, 0xffffffff], 0, 6), fc.oneof(deadline, fc.constant(0)))
  .map(([ports, nr, timeout]) => {
    if ('ptr' in ports) return [call('sched_op', ['SCHEDOP_poll', { struct: 'sched_poll', ports: ports.ptr, nr_ports: nr, timeout }])];
    const bytes = ports.u32s.map((p) => leHex(p, 4)).join('');
    const steps: Step[] = [];
    if (bytes.length > 0) steps.push({ store: { at: POLL_PORTS, bytes } });
    steps.push(call('sched_op', ['SCHEDOP_poll', { struct: 'sched_poll', ports: POLL_PORTS, nr_ports: nr, timeout }]));
    return steps;
  });

/** Where SCHEDOP_poll's port array is stored (guest RAM below the scratch area). */
const POLL_PORTS = '0x120000';

const reason = edged([0, 1, 2, 3, 4, 5, 6, 0xffffffff], 0, 8, 6);

export const schedSteps: fc.Arbitrary<readonly Step[]> = fc.oneof(
  { arbitrary: fc.constant([call('sched_op', ['SCHEDOP_yield', 0])]), weight: 2 },
  { arbitrary: fc.constant([call('sched_op', ['SCHEDOP_block', 0])]), weight: 3 },
  { arbitrary: poll, weight: 4 },
  { arbitrary: subop('sched_op', 'SCHEDOP_shutdown', 'sched_shutdown', fc.record({ reason })).map((s) => [s]), weight: 1 },
  { arbitrary: subop('sched_op', 'SCHEDOP_shutdown_code', 'sched_shutdown', fc.record({ reason })).map((s) => [s]), weight: 1 },
  { arbitrary: subop('sched_op', 'SCHEDOP_remote_shutdown', 'sched_remote_shutdown', fc.record({ domain_id: domid, reason })).map((s) => [s]), weight: 1 },
  { arbitrary: subop('sched_op', 'SCHEDOP_watchdog', 'sched_watchdog', fc.record({ id: fc.constantFrom(0, 1, 2, 3), timeout: fc.constantFrom(0, 1, 10) })).map((s) => [s]), weight: 1 },
  { arbitrary: fc.constantFrom(99, 6, 0xffffffff).map((cmd) => [call('sched_op', [cmd, 0])]), weight: 1 },
  { arbitrary: deadline.map((d) => [call('set_timer_op', [d])]), weight: 5 },
);
