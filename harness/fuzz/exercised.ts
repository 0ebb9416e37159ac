import { factKey, type Fact } from '../coverage/facts';

/**
 * How often a campaign exercised each Xen hypercall x sub-op x result and each Viridian call x
 * status (the fuzz report's coverage). Counts are kept per key, so memory is bounded by the
 * number of distinct paths, not by the length of the campaign.
 */
export class Exercised {
  private readonly counts = new Map<string, number>();

  /** The counts by key (to send to another thread). */
  entries(): [string, number][] {
    return [...this.counts];
  }

  /** Adds another campaign's counts (from entries()). */
  merge(entries: readonly (readonly [string, number])[]): void {
    for (const [key, n] of entries) this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  /** Counts one fact. */
  add(fact: Fact): void {
    const key = factKey(fact);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** The counts as a nested object: { xen: { hypercall: { subop: { result: n } } }, viridian: { call: { status: n } } }, keys sorted. */
  toJSON(): { xen: Record<string, Record<string, Record<string, number>>>; viridian: Record<string, Record<string, number>> } {
    const xen: Record<string, Record<string, Record<string, number>>> = {};
    const viridian: Record<string, Record<string, number>> = {};
    for (const [key, n] of [...this.counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const [kind, ...rest] = key.split(' ');
      if (kind === 'xen') {
        const [hypercall = '', subop = '', ...result] = rest;
        ((xen[hypercall] ??= {})[subop || '-'] ??= {})[result.join(' ')] = n;
      } else if (kind === 'viridian') {
        const [call = '', ...status] = rest;
        (viridian[call] ??= {})[status.join(' ')] = n;
      }
    }
    return { xen, viridian };
  }

  /** Distinct (hypercall, sub-op) pairs and Viridian calls seen. */
  get breadth(): { readonly subops: number; readonly results: number; readonly viridianCalls: number; readonly viridianStatuses: number } {
    const subops = new Set<string>();
    const calls = new Set<string>();
    let results = 0;
    let statuses = 0;
    for (const key of this.counts.keys()) {
      const parts = key.split(' ');
      if (parts[0] === 'xen') {
        subops.add(`${parts[1]} ${parts[2]}`);
        results++;
      } else if (parts[0] === 'viridian') {
        calls.add(parts[1] ?? '');
        statuses++;
      }
    }
    return { subops: subops.size, results, viridianCalls: calls.size, viridianStatuses: statuses };
  }
}
