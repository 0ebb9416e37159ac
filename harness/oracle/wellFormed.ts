import { CALLS_BY_CODE, decodeInput, viridianAbi, type TraceEntry, type ViridianProfile } from '../sut/index';

/** One Viridian operation of the adapter that is not well-formed, or not allowed by the profile. */
export type IllFormed = { readonly entry: number; readonly what: string; readonly why: string };

const { HV_HYPERCALL, HV_FEATURES_EDX } = viridianAbi;

/** Bytes of register input a fast call can carry without and with XMM registers (TLFS hypercall-interface.md). */
const PLAIN_FAST = 16;
const XMM_FAST = 112;

/**
 * Checks what an adapter did on the Viridian machine against the TLFS and the profile, with no
 * Xen world needed (design.md section 3): every hypercall has no reserved input bit set (Is
 * Nested included), a known code the profile grants, rep count and start index valid for its
 * class, a variable header only where the call takes one, the fast form only where the call has
 * one (and XMM input only where CPUID offers it), 8-byte aligned GPAs with the input list inside
 * one page, and it succeeded; every MSR access did not fault. The checks are the TLFS's whatever
 * compat mode the model runs in.
 */
export function checkWellFormed(trace: readonly TraceEntry[], profile: ViridianProfile): IllFormed[] {
  const out: IllFormed[] = [];
  trace.forEach((e, entry) => {
    switch (e.kind) {
      case 'hypercall':
        for (const why of checkHypercall(e, profile)) out.push({ entry, what: `${e.call} on VP ${e.vp} at ${e.time} ns`, why });
        break;
      case 'rdmsr':
      case 'wrmsr':
        if (e.fault) out.push({ entry, what: `${e.kind.toUpperCase()} ${e.msr} on VP ${e.vp} at ${e.time} ns`, why: '#GP: the MSR or its feature is not offered' });
        break;
      case 'halt':
      case 'icr':
      case 'eoi':
      case 'invlpg':
      case 'cr3':
      case 'flush-global':
      case 'interrupt':
        break;
      default:
        e satisfies never;
    }
  });
  return out;
}

function checkHypercall(e: Extract<TraceEntry, { kind: 'hypercall' }>, profile: ViridianProfile): string[] {
  const why: string[] = [];
  const rcx = BigInt(e.input);
  const c = decodeInput(rcx);
  if ((rcx & BigInt(HV_HYPERCALL.HV_HYPERCALL_RSVD_MASK)) !== 0n) why.push(`reserved input bits set (0x${(rcx & BigInt(HV_HYPERCALL.HV_HYPERCALL_RSVD_MASK)).toString(16)})`);
  const def = CALLS_BY_CODE.get(c.code);
  if (!def) {
    why.push(`unknown call code 0x${c.code.toString(16)}`);
    return why;
  }
  const access = def.access;
  switch (access.kind) {
    case 'any':
    case 'spin-wait':
      break;
    case 'privilege':
      if (((access.register === 'eax' ? profile.privileges.eax : profile.privileges.ebx) & access.bit) === 0) why.push('the partition lacks the privilege for this call');
      break;
    case 'recommendation':
      if ((profile.recommendations & access.bits) !== access.bits) why.push('the profile does not recommend this call');
      break;
    default:
      access satisfies never;
  }
  const shape = def.shape;
  if (shape.rep) {
    if (c.repCount === 0) why.push('rep call with rep count 0');
    if (c.repStart >= c.repCount) why.push(`rep start index ${c.repStart} not below rep count ${c.repCount}`);
  } else if (c.repCount !== 0 || c.repStart !== 0) why.push('rep count or start index on a simple call');
  if (!shape.varHead && c.varHeadSize !== 0) why.push('variable header on a call without one');
  const inputBytes = shape.inputHeader + 8 * c.varHeadSize + c.repCount * shape.inputElement;
  if (c.fast) {
    if (!shape.fast) why.push('fast form of a call that has none');
    else if (inputBytes > PLAIN_FAST && (profile.featuresEdx & HV_FEATURES_EDX.HV_X64_HYPERCALL_XMM_INPUT_AVAILABLE) === 0) why.push('XMM fast input, which the profile does not offer');
    if (shape.fast && inputBytes > XMM_FAST) why.push(`fast input of ${inputBytes} bytes exceeds the 112-byte register block`);
  } else {
    const rdx = BigInt(e.rdx);
    if (inputBytes > 0 && (rdx & 7n) !== 0n) why.push('input GPA not 8-byte aligned');
    if (inputBytes > 0 && rdx / 4096n !== (rdx + BigInt(inputBytes) - 1n) / 4096n) why.push('input list crosses a page');
    const outputBytes = shape.outputHeader + c.repCount * shape.outputElement;
    if (outputBytes > 0 && (BigInt(e.r8) & 7n) !== 0n) why.push('output GPA not 8-byte aligned');
  }
  if (e.result !== 'HV_STATUS_SUCCESS') why.push(`it failed: ${e.result}`);
  return why;
}
