import { HVCALL } from '../abi/hypercalls';
import { HvPostDebugData, HvResetDebugSession, HvRetrieveDebugData } from './debug';
import { HvCallFlushVirtualAddressList, HvCallFlushVirtualAddressListEx, HvCallFlushVirtualAddressSpace, HvCallFlushVirtualAddressSpaceEx } from './flush';
import { HvCallSendSyntheticClusterIpi, HvCallSendSyntheticClusterIpiEx } from './ipi';
import { HvCallPostMessage, HvCallSignalEvent } from './messages';
import { HvCallNotifyLongSpinWait } from './HvCallNotifyLongSpinWait';
import { HvCallStartVirtualProcessor } from './HvCallStartVirtualProcessor';
import { HvCallGetVpIndexFromApicId } from './HvCallGetVpIndexFromApicId';
import { HvExtCallQueryCapabilities } from './HvExtCallQueryCapabilities';
import { NOT_MODELLED } from './notModelled';
import type { HvCallName, ViridianCallDefinition } from './types';

/** The calls the model implements. */
export const MODELLED_CALLS: readonly ViridianCallDefinition[] = [
  HvCallFlushVirtualAddressSpace,
  HvCallFlushVirtualAddressList,
  HvCallFlushVirtualAddressSpaceEx,
  HvCallFlushVirtualAddressListEx,
  HvCallSendSyntheticClusterIpi,
  HvCallSendSyntheticClusterIpiEx,
  HvCallNotifyLongSpinWait,
  HvCallPostMessage,
  HvCallSignalEvent,
  HvPostDebugData,
  HvRetrieveDebugData,
  HvResetDebugSession,
  HvCallStartVirtualProcessor,
  HvCallGetVpIndexFromApicId,
  HvExtCallQueryCapabilities,
];

/**
 * Every call code of the ABI table with its definition. The mapped type makes the compiler
 * check that no HVCALL_* name is left without a decision; a code outside the table is
 * HV_STATUS_INVALID_HYPERCALL_CODE.
 */
export const CALLS_BY_NAME: Readonly<Record<HvCallName, ViridianCallDefinition>> = (() => {
  const out: Partial<Record<HvCallName, ViridianCallDefinition>> = {};
  for (const definition of [...MODELLED_CALLS, ...NOT_MODELLED]) {
    if (out[definition.name]) throw new Error(`[viridian] call ${definition.name} defined twice`);
    out[definition.name] = definition;
  }
  for (const name of Object.keys(HVCALL) as HvCallName[]) if (!out[name]) throw new Error(`[viridian] call ${name} has no definition`);
  return out as Record<HvCallName, ViridianCallDefinition>;
})();

/** Definitions by call code. */
export const CALLS_BY_CODE: ReadonlyMap<number, ViridianCallDefinition> = new Map(
  (Object.entries(CALLS_BY_NAME) as [HvCallName, ViridianCallDefinition][]).map(([name, definition]) => [HVCALL[name], definition]),
);
