import { PAGE_SIZE } from '../machine/units';
import { HV_FEATURES_EDX, HV_PRIVILEGES_EBX } from './abi/cpuid';
import { HV_CALL_INPUT } from './abi/calls';
import { HVCALL } from './abi/hypercalls';
import { CallInput, CallOutput, fastInputBlock } from './callInput';
import { decodeInput, type HypercallInput } from './control';
import { hvStatus, UD, type HypercallOutcome } from './outcome';
import { knowsCall, type HvStatusName } from './profiles';
import { CALLS_BY_CODE } from './hypercalls/table';
import type { CallAccess, CallResult, ViridianCallDefinition } from './hypercalls/types';
import type { ViridianModel } from './viridianModel';
import type { ViridianVp } from './vp';

/** The registers of a 64-bit hypercall: RCX input value, RDX and R8 (GPAs or fast input), XMM0..5 halves (low half first). */
export type HypercallRegisters = { readonly rcx: bigint; readonly rdx: bigint; readonly r8: bigint; readonly xmm?: readonly bigint[] };

/** Calls Xen's viridian_hypercall accepts only in memory form (xen/arch/x86/hvm/viridian/viridian.c). */
const XEN_SLOW_ONLY: ReadonlySet<number> = new Set([
  HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE,
  HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST,
  HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX,
  HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX,
  HVCALL.HVCALL_SEND_IPI_EX,
]);

/** Bytes of register input a fast call can carry: RDX and R8 only (16), or with XMM0..XMM5 (112). */
const PLAIN_FAST_BYTES = 16;
const XMM_FAST_BYTES = 16 + 16 * HV_CALL_INPUT.HV_HYPERCALL_MAX_XMM_REGISTERS;
/**
 * Call codes of extended hypercalls that the EnableExtendedHypercalls privilege gates: 0x8001 up
 * to KVM's HV_EXT_CALL_MAX (0x8001 + 64). KVM's hyperv_features selftest expects 0xbeef to be an
 * unknown code, not a denied one, so codes above the range are not gated.
 */
const EXTENDED_CALLS = { first: 0x8001, last: 0x8041 } as const;

/**
 * One hypercall from a VP, checked in this order (docs/decisions.md "Hypercall validation order"):
 *  1. no hypercall interface (the hypercall page is not enabled): #UD;
 *  2. the partition lacks the call's privilege or recommendation: HV_STATUS_ACCESS_DENIED;
 *  3. reserved bits of the input value (bit 31, Is Nested, among them): INVALID_HYPERCALL_INPUT;
 *  4. unknown call code: HV_STATUS_INVALID_HYPERCALL_CODE (per compat, a code KVM's or Xen's
 *     dispatcher has no case for is unknown too: quirk knownCalls, V33); under quirk
 *     spinWaitInput, HvCallNotifyLongSpinWait then skips steps 5-8 (KVM still checks step 6);
 *  5. fast bit on a call without a fast form (status per compat); register input that needs
 *     the XMM registers when CPUID does not offer XMM fast input: #UD;
 *  6. rep count and rep start index, variable header size: INVALID_HYPERCALL_INPUT;
 *  7. fast input larger than the register block: INVALID_HYPERCALL_INPUT;
 *  8. memory form: input and output GPAs 8-byte aligned, lists within one page and inside the
 *     GPA space: HV_STATUS_INVALID_ALIGNMENT; a GPA with no page behind it: a memory intercept
 *     (or a status, per compat);
 *  9. the call's own checks, in the order of its TLFS "Return Values" table.
 * Steps 2-4 follow KVM's kvm_hv_hypercall, steps 6-8 the TLFS hypercall-interface.md.
 */
export function issueHypercall(model: ViridianModel, vp: ViridianVp, regs: HypercallRegisters): HypercallOutcome {
  if (!model.hypercallsEnabled) return UD;
  const control = decodeInput(regs.rcx);
  const defined = CALLS_BY_CODE.get(control.code);
  const definition = defined && knowsCall(model.quirks.knownCalls, control.code) ? defined : undefined;
  if (model.quirks.hypercallGating === 'privileges' && !allowed(model, definition?.access, control.code)) return hvStatus('HV_STATUS_ACCESS_DENIED');
  if (model.quirks.reservedInputBits === 'reject' && (control.reserved !== 0n || control.nested)) return hvStatus('HV_STATUS_INVALID_HYPERCALL_INPUT');
  if (!definition) return hvStatus('HV_STATUS_INVALID_HYPERCALL_CODE');
  if (control.code === HVCALL.HVCALL_NOTIFY_LONG_SPIN_WAIT && model.quirks.spinWaitInput !== 'checked') return spinWaitWithoutInput(model, vp, definition, control);
  const shape = definition.shape;
  // A variable header counts only for a call that takes one (step 6 refuses it elsewhere).
  const inputBytes = shape.inputHeader + (shape.varHead ? 8 * control.varHeadSize : 0) + control.repCount * shape.inputElement;
  if (control.fast) {
    if (!shape.fast) return hvStatus(model.quirks.fastNotSupported);
    if (model.quirks.fastFlushAndIpiEx === 'invalid-parameter' && XEN_SLOW_ONLY.has(control.code)) return hvStatus('HV_STATUS_INVALID_PARAMETER');
    if (inputBytes > PLAIN_FAST_BYTES && (model.profile.featuresEdx & HV_FEATURES_EDX.HV_X64_HYPERCALL_XMM_INPUT_AVAILABLE) === 0) return UD;
  }
  const repError = checkReps(model, definition, control);
  if (repError) return hvStatus(repError);
  if (control.fast && inputBytes > XMM_FAST_BYTES) return hvStatus('HV_STATUS_INVALID_HYPERCALL_INPUT');

  let input: CallInput;
  let output: CallOutput | undefined;
  if (control.fast) {
    input = CallInput.fromRegisters(fastInputBlock(regs.rdx, regs.r8, regs.xmm ?? []));
  } else {
    const inCheck = checkGpa(model, regs.rdx, inputBytes, 'read');
    if (inCheck) return inCheck;
    const outputBytes = shape.outputHeader + control.repCount * shape.outputElement;
    const outCheck = checkGpa(model, regs.r8, outputBytes, 'write');
    if (outCheck) return outCheck;
    input = CallInput.fromMemory(model.memory, Number(regs.rdx));
    if (outputBytes > 0) output = new CallOutput(model.memory, Number(regs.r8));
  }

  const start = Math.min(control.repStart, control.repCount);
  // A hypervisor that refuses to restart a call (KVM's list flushes, V8) completes it at once.
  const budget = restartable(model, control.code) ? model.config.repsPerCall : undefined;
  const end = shape.rep && budget !== undefined ? Math.min(control.repCount, start + budget) : control.repCount;
  const result = definition.handler({ model, vp, control, input, output, reps: { start, end } });
  return finish(result, shape.rep ? start : 0);
}

/**
 * HvCallNotifyLongSpinWait as KVM and Xen run it (V33): neither reads its parameter (KVM's case
 * calls kvm_vcpu_on_spin, Xen's vcpu_yield), so no GPA or fast-input check applies; KVM still
 * refuses a rep count, rep start or variable header (HV_STATUS_INVALID_HYPERCALL_INPUT), Xen
 * checks nothing.
 */
function spinWaitWithoutInput(model: ViridianModel, vp: ViridianVp, definition: ViridianCallDefinition, control: HypercallInput): HypercallOutcome {
  if (model.quirks.spinWaitInput === 'input-value-only') {
    const repError = checkReps(model, definition, control);
    if (repError) return hvStatus(repError);
  }
  const input = CallInput.fromRegisters(fastInputBlock(0n, 0n, []));
  return finish(definition.handler({ model, vp, control, input, output: undefined, reps: { start: 0, end: 0 } }), 0);
}

/** Whether the rep budget (config.repsPerCall) applies to a call: not where the rep start must be 0 (quirk repStart 'list-flush-zero'). */
function restartable(model: ViridianModel, code: number): boolean {
  return !(model.quirks.repStart === 'list-flush-zero' && isListFlush(code));
}

function isListFlush(code: number): boolean {
  return code === HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST || code === HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX;
}

function finish(result: CallResult, defaultReps: number): HypercallOutcome {
  switch (result.kind) {
    case 'status':
      return hvStatus(result.status, result.repsCompleted ?? defaultReps);
    case 'intercept':
      return { kind: 'intercept', gpa: result.fault.gpa, access: result.fault.access };
    case 'unimplemented':
      return result;
    default:
      return result satisfies never;
  }
}

/**
 * The access check: privileges from CPUID 0x40000003 EAX/EBX, recommendations from 0x40000004
 * EAX (KVM hv_check_hypercall_access), HvCallNotifyLongSpinWait per compat, and the
 * EnableExtendedHypercalls privilege for the extended call codes. Unknown codes pass, so that
 * they fail as unknown.
 */
function allowed(model: ViridianModel, access: CallAccess | undefined, code: number): boolean {
  const profile = model.profile;
  if (code >= EXTENDED_CALLS.first && code <= EXTENDED_CALLS.last && (profile.privileges.ebx & HV_PRIVILEGES_EBX.HV_ENABLE_EXTENDED_HYPERCALLS) === 0) return false;
  if (!access) return true;
  switch (access.kind) {
    case 'any':
      return true;
    case 'privilege':
      return ((access.register === 'eax' ? profile.privileges.eax : profile.privileges.ebx) & access.bit) !== 0;
    case 'recommendation':
      return (profile.recommendations & access.bits) === access.bits;
    case 'spin-wait':
      return model.quirks.spinWaitGate === 'none' || (profile.spinRetries !== 0 && profile.spinRetries !== 0xffff_ffff);
    default:
      return access satisfies never;
  }
}

/**
 * Rep and variable-header rules (TLFS hypercall-interface.md "Hypercall Inputs", "Variable Sized
 * Hypercall Input Headers"): a rep call needs a non-zero rep count and a start index below it
 * (V8: KVM checks only that list flushes start at 0, Xen nothing); a simple call has both zero;
 * only calls with a variable header may give its size.
 */
function checkReps(model: ViridianModel, definition: ViridianCallDefinition, control: HypercallInput): HvStatusName | undefined {
  if (definition.shape.rep) {
    if (control.repCount === 0) return 'HV_STATUS_INVALID_HYPERCALL_INPUT';
    switch (model.quirks.repStart) {
      case 'less-than-count':
        if (control.repStart >= control.repCount) return 'HV_STATUS_INVALID_HYPERCALL_INPUT';
        break;
      case 'list-flush-zero':
        if (control.repStart !== 0 && isListFlush(control.code)) {
          return 'HV_STATUS_INVALID_HYPERCALL_INPUT';
        }
        break;
      case 'none':
        break;
      default:
        return model.quirks.repStart satisfies never;
    }
  } else if (control.repCount !== 0 || control.repStart !== 0) return 'HV_STATUS_INVALID_HYPERCALL_INPUT';
  if (!definition.shape.varHead && control.varHeadSize !== 0) return 'HV_STATUS_INVALID_HYPERCALL_INPUT';
  return undefined;
}

/**
 * Checks a parameter list at a GPA (TLFS hypercall-interface.md "Alignment Requirements",
 * HV_STATUS_INVALID_ALIGNMENT): 8-byte aligned, not crossing a page, inside the GPA space. A
 * list with no page behind it (or a read-only overlay page for output) is a memory intercept
 * (TLFS v6.0b 3.6), or the compat's status (V19). An empty list's GPA is ignored.
 */
function checkGpa(model: ViridianModel, gpa: bigint, len: number, access: 'read' | 'write'): HypercallOutcome | undefined {
  if (len === 0) return undefined;
  const value = BigInt.asUintN(64, gpa);
  if ((value & 7n) !== 0n) return hvStatus('HV_STATUS_INVALID_ALIGNMENT');
  const first = value / BigInt(PAGE_SIZE);
  if ((value + BigInt(len) - 1n) / BigInt(PAGE_SIZE) !== first) return hvStatus('HV_STATUS_INVALID_ALIGNMENT');
  if (first >= BigInt(model.memory.addressSpacePages)) return hvStatus('HV_STATUS_INVALID_ALIGNMENT');
  const fault = model.memory.check(Number(value), len, access);
  if (!fault) return undefined;
  const policy = model.quirks.unreadableInput;
  return policy === 'intercept' ? { kind: 'intercept', gpa: fault.gpa, access } : hvStatus(policy);
}
