/**
 * Public entry of the harness package (`xen-viridian-conformance`): what an adapter written
 * against docs/adapter-api.md may use.
 */
export { HARNESS_VERSION } from './version';
export type { AbiConstant, AbiTable, AbiValue } from './sut/index';
export {
  ADAPTER_API_VERSION,
  type Adapter,
  type AdapterFactory,
  type AdapterHost,
  type GuestMemoryView,
  type GuestSink,
  type PlatformServices,
  type RootEndpoints,
  type ViridianGuest,
  type XenCallResult,
  type XenGuestSetup,
  type XenHypercallArgs,
} from './sut/adapterApi';
export { referenceAdapterFactory as createReferenceAdapter } from './sut/worlds/translatedWorld';
export { loadAdapterModule, AdapterLoadError } from './sut/loadAdapter';
export { xenAbi, viridianAbi, referenceAdapter } from './sut/index';
