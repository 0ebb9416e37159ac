import fc from 'fast-check';
import type { Step } from '../../spec/scenario';
import { call, structArg } from './call';
import { badPointer, deadline, guestFrame, period, vcpuArg } from './values';

/*
 * vcpu_op (xen/include/public/vcpu.h, xen/common/domain.c do_vcpu_op, xen/arch/x86/domain.c
 * arch_do_vcpu_op): bring-up and down, the timers, registration of vcpu_info and runstate areas.
 */

const target = vcpuArg;
const sshotFlags = fc.constantFrom(0, 1, 2, 0x80000001);

export const vcpuSteps: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: target.map((v) => call('vcpu_op', ['VCPUOP_is_up', v, 0])), weight: 2 },
  { arbitrary: target.map((v) => call('vcpu_op', ['VCPUOP_up', v, 0])), weight: 2 },
  { arbitrary: target.map((v) => call('vcpu_op', ['VCPUOP_down', v, 0])), weight: 1 },
  { arbitrary: fc.tuple(target, fc.constantFrom(0, 'scratch')).map(([v, p]) => call('vcpu_op', ['VCPUOP_initialise', v, p === 0 ? 0 : { zeros: 64 }])), weight: 1 },
  { arbitrary: fc.tuple(target, structArg('vcpu_set_singleshot_timer', fc.record({ timeout_abs_ns: deadline, flags: sshotFlags }))).map(([v, a]) => call('vcpu_op', ['VCPUOP_set_singleshot_timer', v, a])), weight: 5 },
  { arbitrary: target.map((v) => call('vcpu_op', ['VCPUOP_stop_singleshot_timer', v, 0])), weight: 2 },
  { arbitrary: fc.tuple(target, structArg('vcpu_set_periodic_timer', fc.record({ period_ns: period }))).map(([v, a]) => call('vcpu_op', ['VCPUOP_set_periodic_timer', v, a])), weight: 4 },
  { arbitrary: target.map((v) => call('vcpu_op', ['VCPUOP_stop_periodic_timer', v, 0])), weight: 2 },
  { arbitrary: fc.tuple(target, fc.oneof(fc.constant({ struct: 'vcpu_runstate_info' }), badPointer.map((ptr) => ({ ptr })))).map(([v, a]) => call('vcpu_op', ['VCPUOP_get_runstate_info', v, a])), weight: 1 },
  {
    arbitrary: fc
      .tuple(target, guestFrame, fc.constantFrom(0, 64, 4032, 4064, 1, 8))
      .map(([v, mfn, offset]) => call('vcpu_op', ['VCPUOP_register_vcpu_info', v, { struct: 'vcpu_register_vcpu_info', mfn, offset }])),
    weight: 1,
  },
  { arbitrary: fc.tuple(target, fc.constantFrom(0, '0x130000')).map(([v, addr]) => call('vcpu_op', ['VCPUOP_register_runstate_memory_area', v, { u64s: [addr] }])), weight: 1 },
  { arbitrary: fc.tuple(target, fc.constantFrom(0, '0x130100')).map(([v, addr]) => call('vcpu_op', ['VCPUOP_register_vcpu_time_memory_area', v, { u64s: [addr] }])), weight: 1 },
  { arbitrary: target.map((v) => call('vcpu_op', ['VCPUOP_get_physid', v, { zeros: 8 }])), weight: 1 },
  { arbitrary: target.map((v) => call('vcpu_op', ['VCPUOP_send_nmi', v, 0])), weight: 1 },
  { arbitrary: fc.tuple(fc.constantFrom('VCPUOP_register_runstate_phys_area', 'VCPUOP_register_vcpu_time_phys_area'), target, fc.constantFrom(0, '0x130200')).map(([cmd, v, addr]) => call('vcpu_op', [cmd, v, { u64s: [addr] }])), weight: 1 },
  { arbitrary: fc.tuple(fc.constantFrom(99, 0xffffffff, 16), target).map(([cmd, v]) => call('vcpu_op', [cmd, v, 0])), weight: 1 },
);
