import fc from 'fast-check';
import type { Step } from '../../spec/scenario';
import { call, structArg } from './call';
import { badPointer, consoleText, count, domid, edged } from './values';

/*
 * The hypercalls without a family of their own: xen_version (xen/common/kernel.c
 * do_xen_version), console_io (xen/drivers/char/console.c do_console_io), hvm_op
 * (xen/arch/x86/hvm/hvm.c do_hvm_op), vm_assist (xen/common/kernel.c do_vm_assist), and the
 * numbers a domU gets -ENOSYS or -EPERM for (xen/arch/x86/x86_64/entry.S hypercall_table).
 */

const xenVersion = fc.oneof(
  edged([0, 7, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 99, 0xffffffff], 0, 20).map((cmd) => call('xen_version', [cmd, { zeros: 1032 }])),
  fc.tuple(fc.constantFrom(0, 1, 2, 32), fc.constantFrom('XENVER_get_features')).map(([idx, cmd]) => call('xen_version', [cmd, { struct: 'xen_feature_info', submap_idx: idx }])),
  fc.tuple(fc.constantFrom(1, 2, 3, 5, 6, 10, 11), badPointer).map(([cmd, ptr]) => call('xen_version', [cmd, { ptr }])),
);

const consoleIo = fc.oneof(
  fc.tuple(consoleText, fc.constantFrom(-1, -1, -1, 0, 1, 4096, 0x7fffffff)).map(([text, n]) => call('console_io', ['CONSOLEIO_write', n < 0 ? text.length / 2 : n, { bytes: text }])),
  fc.tuple(count, badPointer).map(([n, ptr]) => call('console_io', ['CONSOLEIO_write', n, { ptr }])),
  fc.constantFrom('CONSOLEIO_read', 2, 0xffffffff).map((cmd) => call('console_io', [cmd, 8, { zeros: 8 }])),
);

const hvmOp = fc.oneof(
  fc.tuple(fc.constantFrom('HVMOP_get_param', 'HVMOP_set_param'), structArg('xen_hvm_param', fc.record({ domid, index: edged([0, 1, 2, 17, 18, 4, 100], 0, 90), value: fc.constantFrom(0, 1, '0x100000000000000', '0x200000000000000') }))).map(([cmd, a]) => call('hvm_op', [cmd, a])),
  fc.constantFrom('HVMOP_get_time', 'HVMOP_flush_tlbs', 'HVMOP_pagetable_dying', 'HVMOP_set_evtchn_upcall_vector', 'HVMOP_altp2m', 99).map((cmd) => call('hvm_op', [cmd, { zeros: 16 }])),
);

const vmAssist = fc.tuple(fc.constantFrom(0, 1, 2, 0xffffffff), edged([0, 1, 2, 3, 4, 5, 6, 31, 32], 0, 40)).map(([cmd, type]) => call('vm_assist', [cmd, type]));

const other = fc.constantFrom<string | number>('mmu_update', 'set_trap_table', 'physdev_op', 'sysctl', 'domctl', 'platform_op', 'xsm_op', 'callback_op', 'nmi_op', 'set_segment_base', 'iret', 'argo_op', 'dm_op', 'hypfs_op', 11, 43, 47, 56, 63, 64, 0xffff, 2 ** 32).map((nr) => call(nr, [0, 0, 0]));

export const miscSteps: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: xenVersion, weight: 2 },
  { arbitrary: consoleIo, weight: 3 },
  { arbitrary: hvmOp, weight: 2 },
  { arbitrary: vmAssist, weight: 1 },
  { arbitrary: other, weight: 1 },
);
