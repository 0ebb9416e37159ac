import fc from 'fast-check';
import type { Step } from '../../spec/scenario';
import { call, subop } from './call';
import { domid, edged, likelyPort, port, vcpuArg } from './values';

/*
 * event_channel_op (xen/include/public/event_channel.h, xen/common/event_channel.c
 * do_event_channel_op): every sub-op with arguments at the edges.
 */

const virq = edged([0, 1, 2, 3, 11, 24, 16, 23, 5, 14, 0xffffffff], 0, 30);
/** A port that exists more often than not. */
const anyPort = fc.oneof({ arbitrary: likelyPort, weight: 3 }, { arbitrary: port, weight: 2 });

const OPS: fc.Arbitrary<Step>[] = [
  subop('event_channel_op', 'EVTCHNOP_alloc_unbound', 'evtchn_alloc_unbound', fc.record({ dom: domid, remote_dom: domid })),
  subop('event_channel_op', 'EVTCHNOP_bind_interdomain', 'evtchn_bind_interdomain', fc.record({ remote_dom: fc.constantFrom(0, 0x7ff0, 1, 7), remote_port: anyPort })),
  subop('event_channel_op', 'EVTCHNOP_bind_virq', 'evtchn_bind_virq', fc.record({ virq, vcpu: vcpuArg })),
  subop('event_channel_op', 'EVTCHNOP_bind_ipi', 'evtchn_bind_ipi', fc.record({ vcpu: vcpuArg })),
  subop('event_channel_op', 'EVTCHNOP_close', 'evtchn_port_arg', fc.record({ port: anyPort })),
  subop('event_channel_op', 'EVTCHNOP_send', 'evtchn_port_arg', fc.record({ port: anyPort })),
  subop('event_channel_op', 'EVTCHNOP_unmask', 'evtchn_port_arg', fc.record({ port: anyPort })),
  subop('event_channel_op', 'EVTCHNOP_status', 'evtchn_status', fc.record({ dom: domid, port: anyPort })),
  subop('event_channel_op', 'EVTCHNOP_bind_vcpu', 'evtchn_bind_vcpu', fc.record({ port: anyPort, vcpu: vcpuArg })),
  subop('event_channel_op', 'EVTCHNOP_reset', 'evtchn_reset', fc.record({ dom: domid })),
  subop('event_channel_op', 'EVTCHNOP_set_priority', 'evtchn_set_priority', fc.record({ port: anyPort, priority: edged([0, 7, 8, 15, 16], 0, 20) })),
  subop('event_channel_op', 'EVTCHNOP_bind_pirq', 'evtchn_bind_pirq', fc.record({ pirq: edged([0, 1, 16], 0, 255), flags: fc.constantFrom(0, 1) })),
  subop('event_channel_op', 'EVTCHNOP_init_control', 'evtchn_init_control', fc.record({ control_gfn: fc.constantFrom(0x110, 0x7fffffff), offset: fc.constantFrom(0, 8, 4096), vcpu: vcpuArg })),
  subop('event_channel_op', 'EVTCHNOP_expand_array', 'evtchn_expand_array', fc.record({ array_gfn: fc.constantFrom(0x111, 0) })),
  fc.constantFrom(99, 13, 0xffffffff, '0x100000004').map((cmd) => call('event_channel_op', [cmd, { zeros: 24 }])),
];

/** The binds that make later sub-ops meaningful come more often. */
export const evtchnStep: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.oneof(...OPS), weight: 6 },
  { arbitrary: subop('event_channel_op', 'EVTCHNOP_bind_ipi', 'evtchn_bind_ipi', fc.record({ vcpu: fc.constantFrom(0, 1) })), weight: 2 },
  { arbitrary: subop('event_channel_op', 'EVTCHNOP_bind_virq', 'evtchn_bind_virq', fc.record({ virq: fc.constant(0), vcpu: fc.constantFrom(0, 1) })), weight: 2 },
  { arbitrary: subop('event_channel_op', 'EVTCHNOP_send', 'evtchn_port_arg', fc.record({ port: likelyPort })), weight: 2 },
);
