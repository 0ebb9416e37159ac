/**
 * The public entry of the emulator: the shared machine, the Xen reference model and the ABI
 * tables. The harness reaches the emulator only through harness/sut, which imports this file.
 */
export * from './machine/units';
export * from './machine/memory';
export * from './machine/clock';
export * from './machine/tlb';
export * from './machine/vcpu';
export * from './machine/console';
export * from './machine/machine';
export * from './abi/abiTable';
export * from './abi/struct';
export * as xenAbi from './xen/abi/index';
export { XEN_ABI_TABLES } from './xen/abi/index';
export * from './xen/outcome';
export * from './xen/profiles';
export * from './xen/config';
export { XenModel, PEER_DOMID } from './xen/xenModel';
export { PeerActions, PEER_FIRST_DATA_FRAME } from './xen/peer';
export { hypercallTable, NR_HYPERCALLS } from './xen/table';
export type { HypercallArgs, XenHypercallName, XenHypercallDefinition } from './xen/hypercalls/types';
export { pvclockRead, scaleDelta, setTimeScale } from './xen/time';
export * as viridianAbi from './viridian/abi/index';
export { VIRIDIAN_ABI_TABLES } from './viridian/abi/index';
export * from './viridian/profiles';
export * from './viridian/config';
export * from './viridian/control';
export * from './viridian/outcome';
export { ViridianModel, type InterruptHandler, type CrashReport, type HaltResult } from './viridian/viridianModel';
export type { HypercallRegisters } from './viridian/hypercall';
export type { CpuidResult } from './viridian/cpuidLeaves';
export { CALLS_BY_CODE, CALLS_BY_NAME, MODELLED_CALLS } from './viridian/hypercalls/table';
export type { ViridianCallDefinition, HvCallName } from './viridian/hypercalls/types';
export { implementedMsrs } from './viridian/msrs';
export { encodeSparseVpSet } from './viridian/vpSet';
export { tscPageParams, tscPageTime, referenceCount, nextTscSequence } from './viridian/refTime';
