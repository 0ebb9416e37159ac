import type { XenHypercallName } from '../xen/hypercalls/types';

/**
 * How the reference adapter handles a Xen hypercall:
 * - translated: Xen's semantics carried out with Viridian mechanisms (listed);
 * - emulated: answered inside the adapter from its own state, with no Viridian call;
 * - not-modelled: the Xen model does not implement it either; both worlds answer `unimplemented`;
 * - rejected: answered with exactly what Xen answers, without running anything.
 */
export type Decision =
  | { readonly kind: 'translated'; readonly via: readonly string[] }
  | { readonly kind: 'emulated'; readonly note: string }
  | { readonly kind: 'not-modelled'; readonly note: string }
  | { readonly kind: 'rejected'; readonly errno: 'XEN_ENOSYS'; readonly note: string };

const notModelled = (note: string): Decision => ({ kind: 'not-modelled', note });
const enosys = (note: string): Decision => ({ kind: 'rejected', errno: 'XEN_ENOSYS', note });

/**
 * One decision per `__HYPERVISOR_*` number; the mapped type makes the compiler refuse a missing
 * one. The Viridian mechanisms named are those the adapter uses where the profile offers them,
 * with the fallbacks it takes where it does not (docs/adapter-design.md).
 */
export const TRANSLATIONS: { readonly [K in XenHypercallName]: Decision } = {
  set_trap_table: notModelled('PV trap tables'),
  mmu_update: notModelled('PV page tables'),
  set_gdt: notModelled('PV descriptor tables'),
  stack_switch: notModelled('PV kernel stacks'),
  set_callbacks: notModelled('PV callback entry points'),
  fpu_taskswitch: notModelled('FPU state'),
  sched_op_compat: notModelled('the pre-3.0.2 sched_op ABI'),
  platform_op: notModelled('privileged platform interface'),
  set_debugreg: notModelled('debug registers'),
  get_debugreg: notModelled('debug registers'),
  update_descriptor: notModelled('PV descriptor tables'),
  memory_op: { kind: 'translated', via: ['root-side memory service (populate / release / foreign maps)'] },
  multicall: { kind: 'translated', via: ['each entry by its own decision'] },
  update_va_mapping: notModelled('PV page tables'),
  set_timer_op: { kind: 'translated', via: ['STIMER0 direct mode', 'STIMER0 message to the timer SINT', 'TSC-deadline APIC timer'] },
  event_channel_op_compat: notModelled('the pre-3.2 event channel ABI'),
  xen_version: { kind: 'emulated', note: 'the version and features of the Xen profile' },
  console_io: { kind: 'translated', via: ['serial port (COM1)'] },
  physdev_op_compat: notModelled('physical devices'),
  grant_table_op: { kind: 'translated', via: ['root-side memory service for maps across the peer', 'peer protocol'] },
  vm_assist: { kind: 'emulated', note: 'per-domain assist flags' },
  update_va_mapping_otherdomain: notModelled('PV page tables'),
  iret: notModelled('PV exception return'),
  vcpu_op: { kind: 'translated', via: ['HvCallStartVirtualProcessor', 'INIT and start-up IPI through the ICR', 'HLT', 'synthetic timers'] },
  set_segment_base: notModelled('segment state'),
  mmuext_op: {
    kind: 'translated',
    via: ['HvCallFlushVirtualAddressSpace(Ex)', 'HvCallFlushVirtualAddressList(Ex)', 'INVLPG / MOV CR3 / CR4.PGE on the VP, by IPI where no flush hypercall is recommended'],
  },
  xsm_op: enosys('not reachable in the default build (XSM off)'),
  nmi_op: notModelled('NMI callbacks'),
  sched_op: { kind: 'translated', via: ['HLT', 'HvCallNotifyLongSpinWait for yield where recommended', 'HV_X64_MSR_RESET, crash MSRs or power-off for shutdown'] },
  callback_op: notModelled('PV callback entry points'),
  xenoprof_op: enosys('not reachable in the default build'),
  event_channel_op: {
    kind: 'translated',
    via: ['HvCallSendSyntheticClusterIpi(Ex) or fixed IPIs through the ICR', 'SynIC event flags and messages from the root (peer)', 'HvCallSignalEvent to the root (peer)'],
  },
  physdev_op: notModelled('physical devices and PIRQs'),
  hvm_op: { kind: 'emulated', note: 'HVM parameters and the callback vector' },
  sysctl: notModelled('privileged toolstack interface'),
  domctl: notModelled('privileged toolstack interface'),
  kexec_op: notModelled('privileged kexec interface'),
  tmem_op: enosys('removed in Xen 4.13; no handler for any guest'),
  argo_op: enosys('not reachable in the default build (CONFIG_ARGO off)'),
  xenpmu_op: notModelled('virtual PMU'),
  dm_op: notModelled('device-model interface'),
  hypfs_op: notModelled('hypervisor file system'),
  arch_0: notModelled('__HYPERVISOR_mca'),
  arch_1: notModelled('__HYPERVISOR_paging_domctl_cont'),
  arch_2: enosys('no handler'),
  arch_3: enosys('no handler'),
  arch_4: enosys('no handler'),
  arch_5: enosys('no handler'),
  arch_6: enosys('no handler'),
  arch_7: enosys('no handler'),
};
