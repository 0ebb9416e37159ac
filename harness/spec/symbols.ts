import { flattenTables, VIRIDIAN_ABI_TABLES, XEN_ABI_TABLES, xenAbi, viridianAbi, type StructLayout } from '../sut/index';

/*
 * The names scenarios may use: every ABI constant `xvc abi` lists (Xen and Viridian, in the
 * headers' spelling, and the TLFS names of the call codes), the struct layouts of both ABIs, the
 * Xen hypercall names, and the peer and root operations.
 */

const constants = new Map<string, bigint>();
for (const c of flattenTables([...XEN_ABI_TABLES, ...VIRIDIAN_ABI_TABLES])) {
  constants.set(c.name, BigInt(c.value));
  if (c.alias !== undefined) constants.set(c.alias, BigInt(c.value));
}
// The architectural MSRs of the TSC-deadline timer (Intel SDM vol. 4).
constants.set('IA32_TSC_DEADLINE', 0x6e0n);
constants.set('IA32_X2APIC_LVT_TIMER', 0x832n);

/** Every constant name and its value. */
export const CONSTANTS: ReadonlyMap<string, bigint> = constants;

const structs = new Map<string, StructLayout>();
for (const ns of [xenAbi, viridianAbi] as const) {
  for (const value of Object.values(ns as Record<string, unknown>)) {
    if (typeof value === 'object' && value !== null && 'fields' in value && 'size' in value && 'name' in value) {
      const layout = value as StructLayout;
      structs.set(layout.name, layout);
    }
  }
}

/** Struct layouts by their C name. */
export const STRUCTS: ReadonlyMap<string, StructLayout> = structs;

/** Xen hypercall names (without the __HYPERVISOR_ prefix) and numbers. */
export const HYPERCALLS: ReadonlyMap<string, number> = new Map(Object.entries(xenAbi.XenHypercall));

/** Viridian call codes by Linux and TLFS name. */
export const HV_CALLS: ReadonlyMap<string, number> = new Map(
  Object.entries(viridianAbi.HVCALL).flatMap(([name, code]) => {
    const tlfs = (viridianAbi.HVCALL_TLFS_NAMES as Readonly<Record<string, string | undefined>>)[name];
    return tlfs ? [[name, code] as const, [tlfs, code] as const] : [[name, code] as const];
  }),
);

/** Peer operations and their arguments (emulator/adapter/peerProtocol.ts). */
export const PEER_OPS: ReadonlyMap<string, readonly string[]> = new Map([
  ['allocUnbound', ['remoteDom']],
  ['bindInterdomain', ['remotePort', 'remoteDom']],
  ['close', ['port']],
  ['takeEvents', []],
  ['grantAccess', ['ref', 'frame', 'readonly', 'domid']],
  ['endAccess', ['ref']],
  ['writePage', ['frame', 'offset', 'data']],
  ['readPage', ['frame', 'offset', 'length']],
  ['mapGrant', ['ref', 'readonly']],
  ['unmapGrant', ['handle']],
  ['writeMapped', ['frame', 'offset', 'data']],
  ['readMapped', ['frame', 'offset', 'length']],
]);

/** Root partition operations of world: viridian scenarios, and their arguments. */
export const ROOT_OPS: ReadonlyMap<string, readonly string[]> = new Map([
  ['createRootPort', ['id', 'kind', 'flagCount']],
  ['connect', ['connection', 'port']],
  ['disconnect', ['connection']],
  ['deleteRootPort', ['id']],
  ['setTarget', ['id', 'target']],
  ['createGuestPort', ['id', 'kind', 'targetVp', 'sint', 'baseFlag', 'flagCount']],
  ['deleteGuestPort', ['id']],
  ['postToGuest', ['id', 'type', 'data']],
  ['signalGuest', ['id', 'flag']],
  ['takeMessages', ['id']],
  ['takeFlags', ['id']],
  ['debugSend', ['data']],
  ['debugReceive', []],
  ['republishTscPage', ['valid']],
  ['powerOff', []],
]);
