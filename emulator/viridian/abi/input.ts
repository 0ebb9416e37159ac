import type { AbiTable } from '../../abi/abiTable';

/*
 * Hyper-V constants in the Linux spelling of include/hyperv/hvgdk_mini.h (torvalds/linux
 * 0bd921a4b4), with the TLFS (MicrosoftDocs/Virtualization-Documentation, v6.0b, v2.0A and the
 * current Markdown pages) for the values Linux does not define. The tests check every value
 * against vectors/encoding/hyperv-constants.json.
 */

/** Hypercall input and result value fields. */
export const HV_HYPERCALL = {
  HV_HYPERCALL_RESULT_MASK: 0xffff,
  HV_HYPERCALL_FAST_BIT: 0x10000,
  HV_HYPERCALL_VARHEAD_OFFSET: 0x11,
  HV_HYPERCALL_VARHEAD_MASK: 0x7fe0000,
  HV_HYPERCALL_RSVD0_MASK: 0xf8000000,
  HV_HYPERCALL_NESTED: 0x80000000,
  HV_HYPERCALL_REP_COMP_OFFSET: 0x20,
  HV_HYPERCALL_REP_COMP_1: 0x100000000n,
  HV_HYPERCALL_REP_COMP_MASK: 0xfff00000000n,
  HV_HYPERCALL_RSVD1_MASK: 0xf00000000000n,
  HV_HYPERCALL_REP_START_OFFSET: 0x30,
  HV_HYPERCALL_REP_START_MASK: 0xfff000000000000n,
  HV_HYPERCALL_RSVD2_MASK: 0xf000000000000000n,
  HV_HYPERCALL_RSVD_MASK: 0xf000f000f8000000n,
} as const;

/** The tables of this file, for `xvc abi`. */
export const INPUT_TABLES: readonly AbiTable[] = [
  { title: 'Hypercall input and result value fields', source: 'include/hyperv/hvgdk_mini.h; TLFS Hypercall Interface', values: HV_HYPERCALL },
];
