export * from './world';
export { XenWorld } from './xenWorld';
export { TranslatedWorld, ROOT_LAYOUT, WorldError, referenceAdapterFactory } from './translatedWorld';
export type { TraceEntry } from './trace';
export { ViridianWorld, VIRIDIAN_WORLD_LAYOUT, type ViridianWorldOptions } from './viridianWorld';
