import { XenHypercall } from './abi/hypercalls';
import type { GuestType } from './config';
import { ALL_HYPERCALLS } from './hypercalls/index';
import type { XenHypercallDefinition } from './hypercalls/types';

/** The size of the hypercall table (NR_hypercalls): numbers at or above it are -ENOSYS. */
export const NR_HYPERCALLS = 64;

const cache = new Map<GuestType, readonly (XenHypercallDefinition | undefined)[]>();

/**
 * Builds (once per guest type) the dense dispatch table: for each number, the definition a guest
 * of that type reaches, or undefined (-ENOSYS). Throws when two definitions claim a number or a
 * definition names a number outside the table (an internal error, caught by the table test).
 */
export function hypercallTable(guest: GuestType): readonly (XenHypercallDefinition | undefined)[] {
  const cached = cache.get(guest);
  if (cached) return cached;
  const table = new Array<XenHypercallDefinition | undefined>(NR_HYPERCALLS).fill(undefined);
  for (const definition of ALL_HYPERCALLS) {
    const nr = XenHypercall[definition.name];
    if (nr === undefined || nr >= NR_HYPERCALLS) throw new Error(`[xen] hypercall ${definition.name} has no number below ${NR_HYPERCALLS}`);
    if (!definition.guests.includes(guest)) continue;
    if (table[nr]) throw new Error(`[xen] hypercall ${nr} defined twice (${table[nr]?.name} and ${definition.name})`);
    table[nr] = definition;
  }
  const frozen = Object.freeze(table);
  cache.set(guest, frozen);
  return frozen;
}
