import type { AbiTable } from '../../abi/abiTable';

/*
 * Hyper-V constants in the Linux spelling of include/hyperv/hvgdk_mini.h (torvalds/linux
 * 0bd921a4b4), with the TLFS (MicrosoftDocs/Virtualization-Documentation, v6.0b, v2.0A and the
 * current Markdown pages) for the values Linux does not define. The tests check every value
 * against vectors/encoding/hyperv-constants.json.
 */

/** Constants of call inputs. */
export const HV_CALL_INPUT = {
  HV_PARTITION_ID_SELF: 0xffffffffffffffffn,
  HV_VP_INDEX_SELF: 0xfffffffe,
  HV_ANY_VP: 0xffffffff,
  HV_IPI_LOW_VECTOR: 0x10,
  HV_IPI_HIGH_VECTOR: 0xff,
  HV_HYPERCALL_MAX_XMM_REGISTERS: 6,
  HV_MAX_SPARSE_VCPU_BANKS: 0x40,
  HV_VCPUS_PER_SPARSE_BANK: 0x40,
  HV_FLUSH_ALL_PROCESSORS: 1,
  HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES: 2,
  HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY: 4,
  HV_FLUSH_USE_EXTENDED_RANGE_FORMAT: 8,
  HV_X64_INTERRUPT_TYPE_FIXED: 0,
  HV_X64_INTERRUPT_TYPE_LOWESTPRIORITY: 1,
  HV_X64_INTERRUPT_TYPE_SMI: 2,
  HV_X64_INTERRUPT_TYPE_REMOTEREAD: 3,
  HV_X64_INTERRUPT_TYPE_NMI: 4,
  HV_X64_INTERRUPT_TYPE_INIT: 5,
  HV_X64_INTERRUPT_TYPE_SIPI: 6,
  HV_X64_INTERRUPT_TYPE_EXTINT: 7,
  HV_GENERIC_SET_SPARSE_4K: 0,
  HV_GENERIC_SET_ALL: 1,
} as const;

/** Guest debugging options. */
export const HV_DEBUG = {
  HV_DEBUG_MAXIMUM_DATA_SIZE: 0xff8,
  HV_DEBUG_POST_LOOP: 1,
  HV_DEBUG_RETRIEVE_LOOP: 1,
  HV_DEBUG_RETRIEVE_TEST_ACTIVITY: 2,
  HV_DEBUG_PURGE_INCOMING_DATA: 1,
  HV_DEBUG_PURGE_OUTGOING_DATA: 2,
} as const;

/** The tables of this file, for `xvc abi`. */
export const CALL_INPUT_TABLES: readonly AbiTable[] = [
  { title: 'Constants of call inputs', source: 'include/hyperv/hvgdk_mini.h; TLFS HV_VP_SET', values: HV_CALL_INPUT, notes: { HV_GENERIC_SET_SPARSE_4K: 'TLFS HV_VP_SET; Linux enum hv_generic_set_format', HV_GENERIC_SET_ALL: 'TLFS HV_VP_SET; Linux enum hv_generic_set_format' } },
  { title: 'Guest debugging options', source: 'TLFS v2.0A section 20.2.1', values: HV_DEBUG },
];
