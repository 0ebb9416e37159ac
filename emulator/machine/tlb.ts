/** One cached translation: a page of an address space, global or not. */
export type TlbEntry = {
  /** Address-space tag (the CR3 base of the space that filled it). */
  readonly space: bigint;
  /** Page-aligned virtual address. */
  readonly va: bigint;
  /** A global (CR4.PGE, PTE.G) entry survives address-space switches and non-global flushes. */
  readonly global: boolean;
};

/** Mask that turns a virtual address into the address of its 4 KiB page. */
export const PAGE_MASK_64 = ~0xfffn & ((1n << 64n) - 1n);

/**
 * The TLB of one vCPU, as an abstract set of cached translations tagged by address space (as with
 * PCIDs). Guests fill it by touching pages; flush operations remove entries. Observations compare
 * the sets: a translated world may hold fewer entries than the Xen world (it flushed more), never
 * more.
 */
export class Tlb {
  private readonly entries = new Map<string, TlbEntry>();

  /** Records that the vCPU touched `va` in address space `space`. */
  fill(space: bigint, va: bigint, global: boolean): void {
    const page = va & PAGE_MASK_64;
    // A global translation is shared by every address space, so it is stored once.
    const entry: TlbEntry = { space: global ? 0n : space, va: page, global };
    this.entries.set(keyOf(entry), entry);
  }

  /** Removes everything, global entries included. */
  flushAll(): void {
    this.entries.clear();
  }

  /** Removes every non-global entry of every address space. */
  flushNonGlobal(): void {
    for (const [key, entry] of this.entries) if (!entry.global) this.entries.delete(key);
  }

  /** Removes the entries of one address space; global entries too unless `nonGlobalOnly`. */
  flushSpace(space: bigint, nonGlobalOnly: boolean): void {
    for (const [key, entry] of this.entries) {
      if (entry.global ? !nonGlobalOnly : entry.space === space) this.entries.delete(key);
    }
  }

  /**
   * Removes the translations of `pages` pages starting at `va`: those of `space` (every space
   * when `space` is undefined) and global ones, as INVLPG and the flush-list hypercalls do.
   */
  flushPages(space: bigint | undefined, va: bigint, pages = 1n): void {
    const first = va & PAGE_MASK_64;
    const end = first + pages * 0x1000n;
    for (const [key, entry] of this.entries) {
      if (entry.va < first || entry.va >= end) continue;
      if (entry.global || space === undefined || entry.space === space) this.entries.delete(key);
    }
  }

  /** Whether a translation for `va` in `space` is cached. */
  has(space: bigint, va: bigint): boolean {
    const page = va & PAGE_MASK_64;
    return this.entries.has(keyOf({ space, va: page, global: false })) || this.entries.has(keyOf({ space: 0n, va: page, global: true }));
  }

  /** The cached entries in a stable order (for observations). */
  snapshot(): TlbEntry[] {
    return [...this.entries.values()].sort(compareEntries);
  }

  /** Number of cached entries. */
  get size(): number {
    return this.entries.size;
  }
}

function keyOf(entry: TlbEntry): string {
  return `${entry.global ? 'g' : entry.space.toString(16)}:${entry.va.toString(16)}`;
}

function compareEntries(a: TlbEntry, b: TlbEntry): number {
  if (a.global !== b.global) return a.global ? -1 : 1;
  if (a.space !== b.space) return a.space < b.space ? -1 : 1;
  return a.va < b.va ? -1 : a.va > b.va ? 1 : 0;
}
