import type { GuestType } from '../config';
import type { XenDomain } from '../domain';
import type { XenOutcome } from '../outcome';
import type { XenVcpu } from '../xenVcpu';
import type { AnyXenModel } from '../xenModel';
import type { XenHypercall } from '../abi/hypercalls';

/** The five argument registers of a 64-bit hypercall (RDI, RSI, RDX, R10, R8). */
export type HypercallArgs = readonly [bigint, bigint, bigint, bigint, bigint];

/** The name of a hypercall as in `__HYPERVISOR_<name>`. */
export type XenHypercallName = keyof typeof XenHypercall;

/** Who is calling: the model, the calling domain and the calling vCPU (`current`). */
export type HypercallContext = {
  readonly xen: AnyXenModel;
  readonly d: XenDomain;
  readonly v: XenVcpu;
};

/**
 * One hypercall of the Xen model: its number comes from the ABI table by name, `guests` says
 * which guest types can reach it (xen/include/hypercall-defs.c), and `handler` does what Xen's
 * do_<name> does.
 */
export type XenHypercallDefinition = {
  readonly name: XenHypercallName;
  readonly guests: readonly GuestType[];
  /** Where the behaviour comes from (file and function). */
  readonly source: string;
  readonly handler: (ctx: HypercallContext, args: HypercallArgs) => XenOutcome;
};

/** Declares a hypercall definition (an identity function for typing). */
export function defineHypercall(definition: XenHypercallDefinition): XenHypercallDefinition {
  return Object.freeze(definition);
}
