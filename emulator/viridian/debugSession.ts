/*
 * The partition's debug session (TLFS v2.0A 20.1 "Guest Debugging Support"): an outgoing buffer
 * the guest posts into and the host drains, an incoming buffer the host fills and the guest
 * retrieves from, and the receive-activity counters of 20.1.5.
 */

/** One debug session and the host end of its connection. */
export class DebugSession {
  private readonly capacity: number;
  private outgoing: Uint8Array[] = [];
  private outgoingBytes = 0;
  private incoming: Uint8Array = new Uint8Array(0);
  /** Bytes received on the physical connection, ever (wraps at 2^32). */
  private globalReceived = 0;
  /** The guest's copy of globalReceived, taken at its last HvRetrieveDebugData. */
  private localReceived = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Bytes waiting to be sent to the host. */
  get pendingOutgoing(): number {
    return this.outgoingBytes;
  }

  /** Bytes received and not yet retrieved by the guest. */
  get pendingIncoming(): number {
    return this.incoming.length;
  }

  /** HvPostDebugData: appends the whole block or nothing ("If sufficient free space is not available ... does not post any data"). */
  post(data: Uint8Array): boolean {
    if (this.outgoingBytes + data.length > this.capacity) return false;
    if (data.length > 0) this.outgoing.push(data.slice());
    this.outgoingBytes += data.length;
    return true;
  }

  /** Whether receive activity happened since the guest's last retrieve (20.1.5). */
  get activitySinceRetrieve(): boolean {
    return this.globalReceived !== this.localReceived;
  }

  /** HvRetrieveDebugData: takes up to `count` bytes and records the activity counter. */
  retrieve(count: number): Uint8Array {
    this.localReceived = this.globalReceived;
    const out = this.incoming.slice(0, count);
    this.incoming = this.incoming.slice(out.length);
    return out;
  }

  /** HvResetDebugSession: purges the chosen buffers; returns whether anything was purged. */
  purge(incoming: boolean, outgoing: boolean): boolean {
    let purged = false;
    if (incoming && this.incoming.length > 0) {
      this.incoming = new Uint8Array(0);
      purged = true;
    }
    if (outgoing && this.outgoingBytes > 0) {
      this.outgoing = [];
      this.outgoingBytes = 0;
      purged = true;
    }
    return purged;
  }

  /** The host side: data arrives on the connection; bytes that do not fit are discarded (20.1.3). */
  hostSend(data: Uint8Array): number {
    this.globalReceived = (this.globalReceived + data.length) >>> 0;
    const room = Math.max(0, this.capacity - this.incoming.length);
    const kept = data.subarray(0, room);
    const next = new Uint8Array(this.incoming.length + kept.length);
    next.set(this.incoming);
    next.set(kept, this.incoming.length);
    this.incoming = next;
    return kept.length;
  }

  /** The host side: takes everything the guest posted, in order. */
  hostReceive(): Uint8Array {
    const out = new Uint8Array(this.outgoingBytes);
    let at = 0;
    for (const block of this.outgoing) {
      out.set(block, at);
      at += block.length;
    }
    this.outgoing = [];
    this.outgoingBytes = 0;
    return out;
  }
}
