/** Public entry of the harness package (`xen-viridian-conformance`). */
export { HARNESS_VERSION } from './version';
export type { AbiConstant, AbiTable, AbiValue } from './sut/index';
