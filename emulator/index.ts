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
