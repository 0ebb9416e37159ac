import { isFault } from '../../machine/memory';
import { HV_CALL_INPUT } from '../abi/calls';
import { HV_FEATURES_EDX, HV_RECOMMENDATIONS_EAX as REC } from '../abi/cpuid';
import type { ViridianVp } from '../vp';
import { maskVps, readVpSet } from '../vpSet';
import { defineCall, status, type CallContext, type CallResult } from './types';

/*
 * HvCallFlushVirtualAddressSpace (0x0002), HvCallFlushVirtualAddressList (0x0003) and their Ex
 * forms (0x0013, 0x0014): TLFS hypercalls/HvCallFlushVirtualAddress*.md and TLFS v6.0b 9.3-9.4.
 */

const ALL_PROCESSORS = BigInt(HV_CALL_INPUT.HV_FLUSH_ALL_PROCESSORS);
const ALL_SPACES = BigInt(HV_CALL_INPUT.HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES);
const NON_GLOBAL_ONLY = BigInt(HV_CALL_INPUT.HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY);
const EXTENDED_RANGES = BigInt(HV_CALL_INPUT.HV_FLUSH_USE_EXTENDED_RANGE_FORMAT);
const KNOWN_FLAGS = ALL_PROCESSORS | ALL_SPACES | NON_GLOBAL_ONLY | EXTENDED_RANGES;
/** CR3 bits above the 52-bit physical address width are reserved (Intel SDM 4.5; TLFS v6.0b 9.4 "reserved CR3 bits"). */
const CR3_RESERVED = ~((1n << 52n) - 1n) & ((1n << 64n) - 1n);
/** The low 12 bits of CR3 carry PCID or cache-control bits, not the address space. */
const CR3_ADDRESS = ((1n << 52n) - 1n) & ~0xfffn;

type FlushHeader = { readonly space: bigint; readonly flags: bigint };

/**
 * The checks both forms share (TLFS v6.0b 9.4 "Return Values"): reserved flag bits, the
 * extended range format without its CPUID bit (its element encoding is not published, so the
 * model offers it in no profile), NON_GLOBAL_MAPPINGS_ONLY on a list flush ("treated as an
 * invalid option"), and an address space with reserved CR3 bits unless every space is flushed.
 */
function checkHeader(ctx: CallContext, header: FlushHeader, list: boolean): CallResult | undefined {
  const bad = status('HV_STATUS_INVALID_PARAMETER', ctx.reps.start);
  if ((header.flags & ~KNOWN_FLAGS) !== 0n) return bad;
  if ((header.flags & EXTENDED_RANGES) !== 0n) {
    if ((ctx.model.profile.featuresEdx & HV_FEATURES_EDX.HV_FEATURE_EXT_GVA_RANGES_FLUSH) === 0) return bad;
    return { kind: 'unimplemented', reason: 'HV_FLUSH_USE_EXTENDED_RANGE_FORMAT: the GVA range encoding is not published in the TLFS' };
  }
  if (list && (header.flags & NON_GLOBAL_ONLY) !== 0n) return bad;
  if ((header.flags & ALL_SPACES) === 0n && (header.space & CR3_RESERVED) !== 0n) return bad;
  return undefined;
}

/**
 * The VPs a flush reaches. HV_FLUSH_ALL_PROCESSORS means all of them; otherwise the set, with
 * VP indices the partition does not have ignored (KVM and Xen skip them; the TLFS is silent).
 * An empty set without ALL_PROCESSORS is invalid per the TLFS; the compat switch can make it
 * flush everyone (KVM, for a 64-bit mask; an empty Ex set flushes no one there) or no one (Xen)
 * (docs/decisions.md V5).
 */
function targets(ctx: CallContext, flags: bigint, vps: readonly number[] | 'all', ex: boolean): readonly ViridianVp[] | CallResult {
  const all = ctx.model.vps;
  if ((flags & ALL_PROCESSORS) !== 0n || vps === 'all') return all;
  const chosen = vps.map((i) => all[i]).filter((vp): vp is ViridianVp => vp !== undefined);
  if (vps.length > 0) return chosen;
  switch (ctx.model.quirks.flushEmptySet) {
    case 'invalid-parameter':
      return status('HV_STATUS_INVALID_PARAMETER', ctx.reps.start);
    case 'flush-all':
      // KVM kvm_hv_flush_tlb: an empty 64-bit mask means everyone, an Ex set with no banks no one.
      return ex ? [] : all;
    case 'flush-none':
      return [];
    default:
      return ctx.model.quirks.flushEmptySet satisfies never;
  }
}

function flushSpaces(vps: readonly ViridianVp[], header: FlushHeader): void {
  const nonGlobal = (header.flags & NON_GLOBAL_ONLY) !== 0n;
  for (const vp of vps) {
    if ((header.flags & ALL_SPACES) !== 0n) {
      if (nonGlobal) vp.hw.tlb.flushNonGlobal();
      else vp.hw.tlb.flushAll();
    } else vp.hw.tlb.flushSpace(header.space & CR3_ADDRESS, nonGlobal);
  }
}

/**
 * Processes GVA range elements [start, end) at `offset`: bits 63:12 a page, bits 11:0 the
 * number of additional pages (TLFS HvCallFlushVirtualAddressList "GVA range").
 */
function flushList(ctx: CallContext, vps: readonly ViridianVp[], header: FlushHeader, offset: number): CallResult {
  const space = (header.flags & ALL_SPACES) !== 0n ? undefined : header.space & CR3_ADDRESS;
  for (let rep = ctx.reps.start; rep < ctx.reps.end; rep++) {
    const entry = ctx.input.u64(offset + 8 * rep);
    if (isFault(entry)) return { kind: 'intercept', fault: entry };
    const va = entry & ~0xfffn;
    const pages = (entry & 0xfffn) + 1n;
    for (const vp of vps) vp.hw.tlb.flushPages(space, va, pages);
  }
  return status('HV_STATUS_SUCCESS', ctx.reps.end);
}

function readHeader(ctx: CallContext): FlushHeader | CallResult {
  const space = ctx.input.u64(0);
  if (isFault(space)) return { kind: 'intercept', fault: space };
  const flags = ctx.input.u64(8);
  if (isFault(flags)) return { kind: 'intercept', fault: flags };
  return { space, flags };
}

function flush(ctx: CallContext, ex: boolean, list: boolean): CallResult {
  const header = readHeader(ctx);
  if ('kind' in header) return header;
  const bad = checkHeader(ctx, header, list);
  if (bad) return bad;
  let set: readonly number[] | 'all';
  if (ex) {
    const vpSet = readVpSet(ctx.input, 16, ctx.control.varHeadSize);
    if (isFault(vpSet)) return { kind: 'intercept', fault: vpSet };
    if (vpSet.kind === 'bad-format') return status('HV_STATUS_INVALID_PARAMETER', ctx.reps.start);
    if (vpSet.kind === 'bank-count-mismatch') return status('HV_STATUS_INVALID_HYPERCALL_INPUT', ctx.reps.start);
    set = vpSet.kind === 'all' ? 'all' : vpSet.vps;
  } else {
    const mask = ctx.input.u64(16);
    if (isFault(mask)) return { kind: 'intercept', fault: mask };
    set = maskVps(mask);
  }
  const vps = targets(ctx, header.flags, set, ex);
  if (!Array.isArray(vps)) return vps as CallResult;
  if (list) return flushList(ctx, vps, header, ex ? 32 + 8 * ctx.control.varHeadSize : 24);
  flushSpaces(vps, header);
  return status('HV_STATUS_SUCCESS');
}

const FLUSH = REC.HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED;
const EX = REC.HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED | REC.HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED;

export const HvCallFlushVirtualAddressSpace = defineCall({
  name: 'HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE',
  shape: { rep: false, varHead: false, fast: true, inputHeader: 24, inputElement: 0, outputHeader: 0, outputElement: 0 },
  access: { kind: 'recommendation', bits: FLUSH },
  source: 'TLFS hypercalls/HvCallFlushVirtualAddressSpace.md; TLFS v6.0b 9.4',
  handler: (ctx) => flush(ctx, false, false),
});

export const HvCallFlushVirtualAddressList = defineCall({
  name: 'HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST',
  shape: { rep: true, varHead: false, fast: true, inputHeader: 24, inputElement: 8, outputHeader: 0, outputElement: 0 },
  access: { kind: 'recommendation', bits: FLUSH },
  source: 'TLFS hypercalls/HvCallFlushVirtualAddressList.md; TLFS v6.0b 9.4',
  handler: (ctx) => flush(ctx, false, true),
});

export const HvCallFlushVirtualAddressSpaceEx = defineCall({
  name: 'HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX',
  shape: { rep: false, varHead: true, fast: true, inputHeader: 32, inputElement: 0, outputHeader: 0, outputElement: 0 },
  access: { kind: 'recommendation', bits: EX },
  source: 'TLFS hypercalls/HvCallFlushVirtualAddressSpaceEx.md; datatypes/hv_vp_set.md',
  handler: (ctx) => flush(ctx, true, false),
});

export const HvCallFlushVirtualAddressListEx = defineCall({
  name: 'HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX',
  shape: { rep: true, varHead: true, fast: true, inputHeader: 32, inputElement: 8, outputHeader: 0, outputElement: 0 },
  access: { kind: 'recommendation', bits: EX },
  source: 'TLFS hypercalls/HvCallFlushVirtualAddressListEx.md; datatypes/hv_vp_set.md',
  handler: (ctx) => flush(ctx, true, true),
});
