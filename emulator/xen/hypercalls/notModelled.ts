import type { GuestType } from '../config';
import { unimplemented } from '../outcome';
import { defineHypercall, type XenHypercallDefinition, type XenHypercallName } from './types';

/**
 * Hypercalls a guest can reach (xen/include/hypercall-defs.c) whose behaviour the model does not
 * implement. They answer `unimplemented` with the reason, never a guessed errno. Calls that are
 * not reachable at all (tmem_op, xenoprof_op, xsm_op and argo_op in the default build) are absent
 * from the table and so answer -ENOSYS, as Xen does.
 */
const NOT_MODELLED: readonly { readonly name: XenHypercallName; readonly guests: readonly GuestType[]; readonly reason: string; readonly source: string }[] = [
  { name: 'set_trap_table', guests: ['pv'], reason: 'PV trap tables are not modelled', source: 'xen/arch/x86/pv/traps.c do_set_trap_table' },
  { name: 'mmu_update', guests: ['pv'], reason: 'PV page tables are not modelled', source: 'xen/arch/x86/mm.c do_mmu_update' },
  { name: 'set_gdt', guests: ['pv'], reason: 'PV descriptor tables are not modelled', source: 'xen/arch/x86/pv/descriptor-tables.c do_set_gdt' },
  { name: 'stack_switch', guests: ['pv'], reason: 'PV kernel stacks are not modelled', source: 'xen/arch/x86/pv/misc-hypercalls.c do_stack_switch' },
  { name: 'set_callbacks', guests: ['pv'], reason: 'PV callback entry points are not modelled (the upcall is abstract)', source: 'xen/arch/x86/pv/callback.c do_set_callbacks' },
  { name: 'fpu_taskswitch', guests: ['pv'], reason: 'FPU state is not modelled', source: 'xen/arch/x86/pv/misc-hypercalls.c do_fpu_taskswitch' },
  { name: 'sched_op_compat', guests: ['pv'], reason: 'the pre-3.0.2 sched_op ABI is not modelled', source: 'xen/common/compat/schedule.c' },
  { name: 'platform_op', guests: ['pv', 'pvhvm'], reason: 'privileged platform interface', source: 'xen/arch/x86/platform_hypercall.c do_platform_op' },
  { name: 'set_debugreg', guests: ['pv'], reason: 'debug registers are not modelled', source: 'xen/arch/x86/pv/misc-hypercalls.c do_set_debugreg' },
  { name: 'get_debugreg', guests: ['pv'], reason: 'debug registers are not modelled', source: 'xen/arch/x86/pv/misc-hypercalls.c do_get_debugreg' },
  { name: 'update_descriptor', guests: ['pv'], reason: 'PV descriptor tables are not modelled', source: 'xen/arch/x86/pv/descriptor-tables.c do_update_descriptor' },
  { name: 'update_va_mapping', guests: ['pv'], reason: 'PV page tables are not modelled', source: 'xen/arch/x86/mm.c do_update_va_mapping' },
  { name: 'event_channel_op_compat', guests: ['pv'], reason: 'the pre-3.2 event channel ABI is not modelled', source: 'xen/common/compat' },
  { name: 'physdev_op_compat', guests: ['pv'], reason: 'physical device interface is not modelled', source: 'xen/arch/x86/physdev.c' },
  { name: 'update_va_mapping_otherdomain', guests: ['pv'], reason: 'PV page tables are not modelled', source: 'xen/arch/x86/mm.c' },
  { name: 'iret', guests: ['pv'], reason: 'PV exception return is not modelled', source: 'xen/arch/x86/pv/iret.c' },
  { name: 'set_segment_base', guests: ['pv'], reason: 'segment state is not modelled', source: 'xen/arch/x86/pv/misc-hypercalls.c do_set_segment_base' },
  { name: 'nmi_op', guests: ['pv'], reason: 'NMI callbacks are not modelled', source: 'xen/arch/x86/pv/callback.c do_nmi_op' },
  { name: 'callback_op', guests: ['pv'], reason: 'PV callback entry points are not modelled (the upcall is abstract)', source: 'xen/arch/x86/pv/callback.c do_callback_op' },
  { name: 'physdev_op', guests: ['pv', 'pvhvm'], reason: 'physical device and PIRQ interface is not modelled', source: 'xen/arch/x86/physdev.c do_physdev_op' },
  { name: 'sysctl', guests: ['pv', 'pvhvm'], reason: 'privileged toolstack interface', source: 'xen/common/sysctl.c do_sysctl' },
  { name: 'domctl', guests: ['pv', 'pvhvm'], reason: 'privileged toolstack interface', source: 'xen/common/domctl.c do_domctl' },
  { name: 'kexec_op', guests: ['pv'], reason: 'privileged kexec interface', source: 'xen/common/kexec.c do_kexec_op' },
  { name: 'xenpmu_op', guests: ['pv', 'pvhvm'], reason: 'virtual PMU is not modelled', source: 'xen/arch/x86/cpu/vpmu.c do_xenpmu_op' },
  { name: 'dm_op', guests: ['pv', 'pvhvm'], reason: 'device-model interface is not modelled', source: 'xen/arch/x86/hvm/dm.c do_dm_op' },
  { name: 'hypfs_op', guests: ['pv', 'pvhvm'], reason: 'hypervisor file system is not modelled', source: 'xen/common/hypfs.c do_hypfs_op' },
  { name: 'arch_0', guests: ['pv'], reason: '__HYPERVISOR_mca: machine-check interface is not modelled', source: 'xen/arch/x86/cpu/mcheck/mce.c do_mca' },
  { name: 'arch_1', guests: ['pv', 'pvhvm'], reason: '__HYPERVISOR_paging_domctl_cont: privileged continuation', source: 'xen/arch/x86/mm/paging.c' },
];

/** The unimplemented-but-reachable hypercalls as table entries. */
export const NOT_MODELLED_HYPERCALLS: readonly XenHypercallDefinition[] = NOT_MODELLED.map(({ name, guests, reason, source }) =>
  defineHypercall({ name, guests, source, handler: () => unimplemented(`${name}: ${reason}`) }),
);
