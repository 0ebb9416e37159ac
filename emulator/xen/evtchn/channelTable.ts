import { EVTCHN_LIMITS } from '../abi/event_channel';

/**
 * The state of one event channel port, as Xen keeps it (struct evtchn, ECS_* in
 * xen/include/xen/sched.h). PIRQ ports are not modelled: binding one depends on the host's
 * IO-APIC pin count, so EVTCHNOP_bind_pirq is reported as unimplemented.
 */
export type PortState =
  | { readonly kind: 'free' }
  | { readonly kind: 'reserved' }
  | { readonly kind: 'unbound'; readonly remoteDomid: number }
  | { readonly kind: 'interdomain'; readonly remoteDomid: number; readonly remotePort: number }
  | { readonly kind: 'virq'; readonly virq: number }
  | { readonly kind: 'ipi' };

/** One port: its state and the vCPU notified when it becomes pending. */
export type Channel = {
  state: PortState;
  /** notify_vcpu_id. */
  notifyVcpu: number;
};

const FREE: PortState = Object.freeze({ kind: 'free' });

/**
 * A domain's event channel ports (xen/common/event_channel.c): buckets of ports become valid as
 * they are first allocated, port 0 is reserved at creation, allocation takes the lowest free port.
 */
export class ChannelTable {
  /** d->valid_evtchns: ports below this exist (FREE or otherwise). */
  private valid: number;
  private readonly channels: Channel[] = [];
  /** d->active_evtchns. */
  private active = 0;
  /** d->next_evtchn: non-zero while an EVTCHNOP_reset is in progress (never, in this synchronous model). */
  nextEvtchn = 0;

  /** d->max_evtchn_port. */
  readonly maxPort: number;
  /** EVTCHNS_PER_BUCKET. */
  readonly perBucket: number;

  constructor(maxPort: number, perBucket: number) {
    this.maxPort = maxPort;
    this.perBucket = perBucket;
    // evtchn_init: the first bucket exists from creation and port 0 is reserved.
    this.valid = 0;
    this.growTo(0);
    (this.channels[0] as Channel).state = { kind: 'reserved' };
  }

  /** max_evtchns(d) for the 2-level ABI on a 64-bit guest (EVTCHN_2L_NR_CHANNELS). */
  get maxChannels(): number {
    return EVTCHN_LIMITS.EVTCHN_2L_NR_CHANNELS;
  }

  /** port_is_valid(): the port lies inside an allocated bucket. */
  isValid(port: number): boolean {
    return Number.isInteger(port) && port >= 0 && port < this.valid;
  }

  /** The channel of a valid port. */
  get(port: number): Channel | undefined {
    return this.isValid(port) ? this.channels[port] : undefined;
  }

  /** Number of ports in use (d->active_evtchns). */
  get activeCount(): number {
    return this.active;
  }

  /** Number of valid ports (d->valid_evtchns). */
  get validCount(): number {
    return this.valid;
  }

  /**
   * get_free_port(): the lowest port that is FREE, allocating buckets as needed. Returns the port,
   * or 'ENOSPC'. The port is counted active until {@link release} or until it is given a state.
   */
  allocate(): number | 'ENOSPC' {
    for (let port = 0; port <= this.maxPort; port++) {
      // evtchn_allocate_port
      if (port >= this.maxChannels) return 'ENOSPC';
      if (this.isValid(port)) {
        if ((this.channels[port] as Channel).state.kind !== 'free') continue;
      } else {
        this.growTo(port);
      }
      this.active++;
      return port;
    }
    return 'ENOSPC';
  }

  /** check_free_port(): an allocated port that was left FREE (the operation failed) stops counting as active. */
  release(port: number): void {
    const chn = this.get(port);
    if (chn && chn.state.kind === 'free') this.active--;
  }

  /** evtchn_free(): back to FREE with notify vCPU 0 (the caller clears the pending bit first). */
  free(port: number): void {
    const chn = this.get(port);
    if (!chn) return;
    chn.state = FREE;
    chn.notifyVcpu = 0;
    this.active--;
  }

  /** Every port that is in use (not FREE, not RESERVED), ascending. */
  usedPorts(): number[] {
    const out: number[] = [];
    for (let port = 0; port < this.valid; port++) {
      const kind = (this.channels[port] as Channel).state.kind;
      if (kind !== 'free' && kind !== 'reserved') out.push(port);
    }
    return out;
  }

  private growTo(port: number): void {
    while (port >= this.valid) {
      for (let i = 0; i < this.perBucket; i++) this.channels.push({ state: FREE, notifyVcpu: 0 });
      this.valid += this.perBucket;
    }
  }
}

/** evtchn_usable(): not FREE, not RESERVED (Xen-attached ports are not modelled for guests). */
export function isUsable(chn: Channel): boolean {
  return chn.state.kind !== 'free' && chn.state.kind !== 'reserved';
}
