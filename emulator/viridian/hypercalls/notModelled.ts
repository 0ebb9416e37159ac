import { HV_PRIVILEGES_EBX as EBX, HV_RECOMMENDATIONS_EAX as REC } from '../abi/cpuid';
import { defineCall, simple, type CallAccess, type HvCallName, type ViridianCallDefinition } from './types';

/** HV_PARTITION_PRIVILEGE_MASK bit 48 (EBX bit 16): AccessVSM (TLFS datatypes/hv_partition_privilege_mask.md). */
const ACCESS_VSM = 1 << 16;
/** HV_PARTITION_PRIVILEGE_MASK bit 49 (EBX bit 17): AccessVpRegisters. */
const ACCESS_VP_REGISTERS = 1 << 17;
/** HV_PARTITION_PRIVILEGE_MASK bit 53 (EBX bit 21): StartVirtualProcessor. */
const START_VP = 1 << 21;

const ebx = (bit: number): CallAccess => ({ kind: 'privilege', register: 'ebx', bit });

/**
 * Calls the model knows by number but does not implement: management calls of a parent or root
 * partition, VSM, statistics and isolation. Each needs a privilege (or recommendation) that no
 * profile of the model grants, so a guest gets HV_STATUS_ACCESS_DENIED from the access check
 * (TLFS hypercall-interface.md "Ordering of Error Conditions" prefers it); only a custom profile
 * that grants the privilege reaches the handler, which reports the gap instead of guessing.
 */
const GATES: Readonly<Partial<Record<HvCallName, CallAccess>>> = {
  HVCALL_ENABLE_VP_VTL: ebx(ACCESS_VSM),
  HVCALL_CREATE_PARTITION: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_INITIALIZE_PARTITION: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_FINALIZE_PARTITION: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_DELETE_PARTITION: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_GET_PARTITION_PROPERTY: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_SET_PARTITION_PROPERTY: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_GET_PARTITION_ID: ebx(EBX.HV_ACCESS_PARTITION_ID),
  HVCALL_DEPOSIT_MEMORY: ebx(EBX.HV_ACCESS_MEMORY_POOL),
  HVCALL_WITHDRAW_MEMORY: ebx(EBX.HV_ACCESS_MEMORY_POOL),
  HVCALL_MAP_GPA_PAGES: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_UNMAP_GPA_PAGES: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_INSTALL_INTERCEPT: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_CREATE_VP: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_DELETE_VP: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_GET_VP_REGISTERS: ebx(ACCESS_VP_REGISTERS),
  HVCALL_SET_VP_REGISTERS: ebx(ACCESS_VP_REGISTERS),
  HVCALL_TRANSLATE_VIRTUAL_ADDRESS: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_CLEAR_VIRTUAL_INTERRUPT: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_DELETE_PORT: ebx(EBX.HV_CREATE_PORT),
  HVCALL_DISCONNECT_PORT: ebx(EBX.HV_CONNECT_PORT),
  HVCALL_MAP_STATS_PAGE: ebx(EBX.HV_ACCESS_STATS),
  HVCALL_UNMAP_STATS_PAGE: ebx(EBX.HV_ACCESS_STATS),
  HVCALL_ADD_LOGICAL_PROCESSOR: ebx(EBX.HV_CPU_MANAGEMENT),
  HVCALL_GET_SYSTEM_PROPERTY: ebx(EBX.HV_CPU_MANAGEMENT),
  HVCALL_MAP_DEVICE_INTERRUPT: ebx(EBX.HV_CPU_MANAGEMENT),
  HVCALL_UNMAP_DEVICE_INTERRUPT: ebx(EBX.HV_CPU_MANAGEMENT),
  HVCALL_RETARGET_INTERRUPT: ebx(EBX.HV_CPU_MANAGEMENT),
  HVCALL_NOTIFY_PORT_RING_EMPTY: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_REGISTER_INTERCEPT_RESULT: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_ASSERT_VIRTUAL_INTERRUPT: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_CREATE_PORT: ebx(EBX.HV_CREATE_PORT),
  HVCALL_CONNECT_PORT: ebx(EBX.HV_CONNECT_PORT),
  HVCALL_GET_VP_ID_FROM_APIC_ID: ebx(START_VP),
  HVCALL_FLUSH_GUEST_PHYSICAL_ADDRESS_SPACE: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_FLUSH_GUEST_PHYSICAL_ADDRESS_LIST: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_SIGNAL_EVENT_DIRECT: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_POST_MESSAGE_DIRECT: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_DISPATCH_VP: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_GET_GPA_PAGES_ACCESS_STATES: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_ACQUIRE_SPARSE_SPA_PAGE_HOST_ACCESS: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_RELEASE_SPARSE_SPA_PAGE_HOST_ACCESS: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_MODIFY_SPARSE_GPA_PAGE_HOST_VISIBILITY: ebx(EBX.HV_ISOLATION),
  HVCALL_MAP_VP_STATE_PAGE: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_UNMAP_VP_STATE_PAGE: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_GET_VP_STATE: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_SET_VP_STATE: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_GET_VP_CPUID_VALUES: ebx(EBX.HV_CREATE_PARTITIONS),
  HVCALL_MMIO_READ: { kind: 'recommendation', bits: REC.HV_X64_USE_MMIO_HYPERCALLS },
  HVCALL_MMIO_WRITE: { kind: 'recommendation', bits: REC.HV_X64_USE_MMIO_HYPERCALLS },
};

/** The definitions of the calls above. */
export const NOT_MODELLED: readonly ViridianCallDefinition[] = (Object.entries(GATES) as [HvCallName, CallAccess][]).map(([name, access]) =>
  defineCall({
    name,
    // Their layouts are not modelled: no generic size checks beyond the input value itself.
    shape: simple(0, { rep: false }),
    access,
    source: 'TLFS Appendix A (privilege) ; not modelled',
    handler: () => ({ kind: 'unimplemented', reason: `${name} is not modelled (partition management, VSM, statistics or isolation)` }),
  }),
);
