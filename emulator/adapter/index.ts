/**
 * The reference Xen-to-Viridian adapter: what it needs from its host, the peer protocol it
 * speaks with the root partition, and its per-hypercall decisions.
 */
export { ReferenceAdapter, REFERENCE_ADAPTER, type ReferenceAdapterFaults } from './referenceAdapter';
export { TRANSLATIONS, type Decision } from './translations';
export * from './peerProtocol';
export type * from './host';
export { privateLayout, SHIM_VECTORS, TIMER_SINT } from './platform/viridianDriver';
