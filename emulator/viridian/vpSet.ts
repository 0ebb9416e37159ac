import { isFault, type MemoryFault } from '../machine/memory';
import { HV_CALL_INPUT } from './abi/calls';
import type { CallInput } from './callInput';

/**
 * A decoded HV_VP_SET (TLFS datatypes/hv_vp_set.md): Format, ValidBanksMask, then one 64-bit
 * bank of VP bits per set bit of the mask, in ascending bank order. In the Ex calls the banks are
 * the variable header, so their number is the input value's variable header size.
 */
export type VpSet =
  | { readonly kind: 'all' }
  | { readonly kind: 'sparse'; readonly vps: readonly number[] }
  /** Format is neither HV_GENERIC_SET_SPARSE_4K nor HV_GENERIC_SET_ALL. */
  | { readonly kind: 'bad-format'; readonly format: bigint }
  /** popcount(ValidBanksMask) differs from the variable header size. */
  | { readonly kind: 'bank-count-mismatch'; readonly banks: number; readonly varHead: number };

/** Reads the VP set whose Format field is at `offset`. */
export function readVpSet(input: CallInput, offset: number, varHeadSize: number): VpSet | MemoryFault {
  const format = input.u64(offset);
  if (isFault(format)) return format;
  if (format === BigInt(HV_CALL_INPUT.HV_GENERIC_SET_ALL)) return { kind: 'all' };
  if (format !== BigInt(HV_CALL_INPUT.HV_GENERIC_SET_SPARSE_4K)) return { kind: 'bad-format', format };
  const mask = input.u64(offset + 8);
  if (isFault(mask)) return mask;
  const banks = popcount64(mask);
  if (banks !== varHeadSize) return { kind: 'bank-count-mismatch', banks, varHead: varHeadSize };
  const vps: number[] = [];
  let slot = 0;
  for (let bank = 0; bank < HV_CALL_INPUT.HV_MAX_SPARSE_VCPU_BANKS; bank++) {
    if (((mask >> BigInt(bank)) & 1n) === 0n) continue;
    const bits = input.u64(offset + 16 + 8 * slot++);
    if (isFault(bits)) return bits;
    for (let bit = 0; bit < 64; bit++) if (((bits >> BigInt(bit)) & 1n) === 1n) vps.push(bank * HV_CALL_INPUT.HV_VCPUS_PER_SPARSE_BANK + bit);
  }
  return { kind: 'sparse', vps };
}

/** The VP indices of a 64-bit processor mask (bit n = VP n). */
export function maskVps(mask: bigint): number[] {
  const vps: number[] = [];
  for (let bit = 0; bit < 64; bit++) if (((mask >> BigInt(bit)) & 1n) === 1n) vps.push(bit);
  return vps;
}

/** Number of set bits of a 64-bit value. */
export function popcount64(value: bigint): number {
  let v = BigInt.asUintN(64, value);
  let n = 0;
  while (v !== 0n) {
    v &= v - 1n;
    n++;
  }
  return n;
}

/** Encodes a VP set as the Ex calls carry it: Format, ValidBanksMask and the banks (for tests and adapters). */
export function encodeSparseVpSet(vps: readonly number[]): { readonly mask: bigint; readonly banks: readonly bigint[] } {
  const byBank = new Map<number, bigint>();
  for (const vp of vps) {
    if (!Number.isInteger(vp) || vp < 0 || vp >= HV_CALL_INPUT.HV_MAX_SPARSE_VCPU_BANKS * HV_CALL_INPUT.HV_VCPUS_PER_SPARSE_BANK) throw new RangeError(`VP ${vp} cannot be in a sparse VP set`);
    const bank = Math.floor(vp / 64);
    byBank.set(bank, (byBank.get(bank) ?? 0n) | (1n << BigInt(vp % 64)));
  }
  const order = [...byBank.keys()].sort((a, b) => a - b);
  return { mask: order.reduce((m, b) => m | (1n << BigInt(b)), 0n), banks: order.map((b) => byBank.get(b) as bigint) };
}
