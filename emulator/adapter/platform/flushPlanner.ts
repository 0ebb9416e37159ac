import { HV_CALL_INPUT } from '../../viridian/abi/calls';
import { HVCALL } from '../../viridian/abi/hypercalls';
import type { ShimCore } from './shimCore';
import type { FlushRequest } from './shimVcpu';
import { fromWords, ViridianDriver } from './viridianDriver';

const ALL_SPACES = BigInt(HV_CALL_INPUT.HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES);
const NON_GLOBAL = BigInt(HV_CALL_INPUT.HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY);
const ALL_PROCESSORS = BigInt(HV_CALL_INPUT.HV_FLUSH_ALL_PROCESSORS);
/** GVA range entries per list call: (4096 - 32 header bytes - 64 * 8 bank bytes) / 8, kept under one page. */
const MAX_LIST = 440;

type Group = { readonly op: FlushRequest; readonly vcpus: Set<number> };

/**
 * Collects the TLB operations a Xen call asked for and carries them out before the call returns:
 * with the flush hypercalls where the profile recommends them (one call per kind of flush, with
 * a processor mask, a sparse VP set where Ex masks are recommended, or HV_FLUSH_ALL_PROCESSORS
 * when a target is at 64 or above and they are not), else by IPI: each target flushes itself
 * with INVLPG, MOV CR3 or a CR4.PGE toggle. Where the adapter cannot name the address space it
 * flushes every space (HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES): more than Xen, never less.
 */
export class FlushPlanner {
  private readonly core: ShimCore;
  private groups = new Map<string, Group>();
  /** A fault for xvc's own tests (ReferenceAdapterFaults.flushDropsHighVps): targets at 64 and above are dropped. */
  dropHighVps = false;

  constructor(core: ShimCore) {
    this.core = core;
  }

  /** Queues an operation on a vCPU's TLB. */
  request(vcpu: number, op: FlushRequest): void {
    const key = op.kind === 'pages' ? `p:${op.va}:${op.pages}` : op.kind;
    let group = this.groups.get(key);
    if (!group) {
      group = { op, vcpus: new Set() };
      this.groups.set(key, group);
    }
    group.vcpus.add(vcpu);
  }

  /** Carries out the queued operations from `vp`. */
  execute(vp: number): void {
    if (this.groups.size === 0) return;
    const groups = [...this.groups.values()];
    this.groups = new Map();
    for (const { op, vcpus } of groups) {
      const targets = [...vcpus].filter((t) => !this.dropHighVps || t < 64).sort((a, b) => a - b);
      if (this.core.driver.flushHypercalls) this.byHypercall(vp, op, targets);
      else
        for (const t of targets) {
          if (t === vp) this.local(vp, op);
          else if (this.core.vcpus[t]?.state !== 'down') this.core.post(t, { kind: 'flush', op });
        }
    }
  }

  /** Flushes the VP's own TLB with instructions. */
  local(vp: number, op: FlushRequest): void {
    const v = this.core.host.viridian;
    switch (op.kind) {
      case 'all':
        v.flushTlbGlobal(vp);
        break;
      case 'non-global':
        v.writeCr3(vp, v.readCr3(vp));
        break;
      case 'pages':
        for (let i = 0n; i < op.pages; i++) v.invlpg(vp, op.va + i * 4096n);
        break;
      default:
        op satisfies never;
    }
  }

  private byHypercall(vp: number, op: FlushRequest, targets: readonly number[]): void {
    const driver = this.core.driver;
    const wide = targets.some((t) => t >= 64);
    const ex = wide && driver.exMasks;
    let flags = op.kind === 'non-global' ? ALL_SPACES | NON_GLOBAL : ALL_SPACES;
    // Without Ex masks a VP at 64 or above cannot be named: flush every processor.
    if (wide && !ex) flags |= ALL_PROCESSORS;
    const head: bigint[] = [0n, flags];
    let varHeadSize = 0;
    if (ex) {
      const set = ViridianDriver.vpSet(targets);
      head.push(...set.words);
      varHeadSize = set.banks;
    } else head.push(wide ? 0n : targets.reduce((m, t) => m | (1n << BigInt(t)), 0n));
    if (op.kind !== 'pages') {
      const input = fromWords(head);
      const code = ex ? HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX : HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE;
      driver.call(vp, { code, input, varHeadSize, fast: driver.xmmInput && input.length <= 112 });
      return;
    }
    const entries: bigint[] = [];
    // A GVA range is a page and a count of additional pages in bits 11:0 (at most 4096 pages).
    for (let done = 0n; done < op.pages; ) {
      const n = op.pages - done > 4096n ? 4096n : op.pages - done;
      entries.push(((op.va + done * 4096n) & ~0xfffn) | (n - 1n));
      done += n;
    }
    const code = ex ? HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX : HVCALL.HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST;
    for (let i = 0; i < entries.length; i += MAX_LIST) {
      const chunk = entries.slice(i, i + MAX_LIST);
      driver.call(vp, { code, input: fromWords([...head, ...chunk]), varHeadSize, repCount: chunk.length });
    }
  }
}
