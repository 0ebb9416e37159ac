import { GNTMAP, GNTST, GTF } from './abi/grant_table';
import { SHARED_INFO } from './abi/layouts';
import { isFault } from '../machine/memory';
import type { Gfn } from '../machine/units';
import * as evtchn from './evtchn/operations';
import { mapGrant, unmapGrant, type MapResult } from './grants/operations';
import type { AnyXenModel } from './xenModel';

/** First peer frame scenarios may use for data; below are shared_info (0) and the grant frames (1..4). */
export const PEER_FIRST_DATA_FRAME = 8;

/**
 * What the peer domain (dom0, the backend) can do. These are the actions of another domain that
 * the guest can observe: ports offered and bound, events sent, grants offered, and the guest's
 * grants mapped. In the Xen world they run as dom0's own hypercalls against the model.
 */
export class PeerActions {
  private readonly xen: AnyXenModel;

  constructor(xen: AnyXenModel) {
    this.xen = xen;
  }

  private get peer() {
    return this.xen.peer;
  }

  /** EVTCHNOP_alloc_unbound by dom0: a port the guest (or `remoteDom`) may bind to. */
  allocUnbound(remoteDom: number = this.xen.guest.domid): evtchn.EvtResult {
    return evtchn.allocUnbound(this.xen, this.peer, this.peer.domid, remoteDom);
  }

  /** EVTCHNOP_bind_interdomain by dom0 to a port the guest left unbound for it. */
  bindInterdomain(remotePort: number, remoteDom: number = this.xen.guest.domid): evtchn.EvtResult {
    return evtchn.bindInterdomain(this.xen, this.peer, remoteDom, remotePort);
  }

  /** EVTCHNOP_send by dom0. */
  send(port: number): evtchn.EvtResult {
    return evtchn.send(this.xen, this.peer, port);
  }

  /** EVTCHNOP_close by dom0. */
  close(port: number): evtchn.EvtResult {
    return evtchn.close(this.xen, this.peer, port);
  }

  /** Ports pending for dom0 (and not masked), in order; dom0 acknowledges them (clears the bits and its upcall). */
  takeEvents(): number[] {
    const mem = this.peer.memory;
    const out: number[] = [];
    for (const port of this.peer.evtchn.usedPorts()) {
      if (this.peer.isPendingBit(port) && !this.peer.isMaskedBit(port)) {
        out.push(port);
        const at = this.peer.sharedInfoGpa + SHARED_INFO.evtchn_pending + (port >> 3);
        const byte = mem.read8(at);
        if (!isFault(byte)) mem.write8(at, byte & ~(1 << (port & 7)));
      }
    }
    for (const v of this.peer.vcpus) {
      const { mem: vmem, gpa } = this.peer.vcpuInfo(v);
      vmem.write8(gpa, 0);
      vmem.write64(gpa + 8, 0n);
      v.upcallDelivered = false;
    }
    return out;
  }

  /** dom0 offers frame `frame` of its memory to the guest as grant `ref` (Linux gnttab_grant_foreign_access: domid and frame first, then flags). */
  grantAccess(ref: number, frame: number, readonly: boolean, domid: number = this.xen.guest.domid): boolean {
    const grants = this.peer.grants;
    if (ref >= grants.nrEntries) return false;
    const gpa = grants.entryGpa(ref);
    const mem = this.peer.memory;
    mem.write16(gpa + 2, domid);
    mem.write32(gpa + 4, frame);
    mem.write16(gpa, GTF.GTF_permit_access | (readonly ? GTF.GTF_readonly : 0));
    return true;
  }

  /** dom0 revokes grant `ref`; refused (false) while the guest still has it mapped or in use. */
  endAccess(ref: number): boolean {
    const entry = this.peer.grants.readEntry(ref);
    if (!entry) return false;
    if ((entry.flags & (GTF.GTF_reading | GTF.GTF_writing)) !== 0) return false;
    this.peer.memory.write16(this.peer.grants.entryGpa(ref), 0);
    return true;
  }

  /** dom0 writes into one of its own frames. */
  writePage(frame: number, offset: number, bytes: Uint8Array): boolean {
    return this.peer.memory.writeBytes(frame * 4096 + offset, bytes) === undefined;
  }

  /** dom0 reads one of its own frames. */
  readPage(frame: number, offset: number, length: number): Uint8Array | undefined {
    const bytes = this.peer.memory.readBytes(frame * 4096 + offset, length);
    return isFault(bytes) ? undefined : bytes;
  }

  /** dom0 maps the guest's grant `ref` (GNTTABOP_map_grant_ref with GNTMAP_host_map) at a free frame of its own. */
  mapGrant(ref: number, readonly: boolean): MapResult & { readonly frame?: number } {
    const mem = this.peer.memory;
    let slot = this.xen.config.peerPages;
    while (slot < mem.addressSpacePages && mem.isPopulated(slot)) slot++;
    if (slot >= mem.addressSpacePages) return { status: GNTST.GNTST_no_space };
    const flags = GNTMAP.GNTMAP_host_map | (readonly ? GNTMAP.GNTMAP_readonly : 0);
    const r = mapGrant(this.xen, this.peer, 0, { hostAddr: BigInt(slot) << 12n, flags, ref, dom: this.xen.guest.domid });
    if ('unimplemented' in r) throw new Error(`[xen] peer map: ${r.unimplemented}`);
    return r.status === GNTST.GNTST_okay ? { ...r, frame: slot } : r;
  }

  /** dom0 unmaps a grant it mapped with {@link mapGrant}. */
  unmapGrant(handle: number): number {
    const map = this.peer.grants.maptrack.get(handle);
    const hostAddr = map?.hostGfn !== undefined ? BigInt(map.hostGfn) << 12n : 0n;
    return unmapGrant(this.xen, this.peer, { hostAddr, devBusAddr: 0n, handle });
  }

  /** dom0 writes through a grant mapping (the guest's frame changes). */
  writeMapped(frame: number, offset: number, bytes: Uint8Array): boolean {
    if (!this.peer.memory.isForeign(frame as Gfn)) return false;
    return this.peer.memory.writeBytes(frame * 4096 + offset, bytes) === undefined;
  }

  /** dom0 reads through a grant mapping. */
  readMapped(frame: number, offset: number, length: number): Uint8Array | undefined {
    if (!this.peer.memory.isForeign(frame as Gfn)) return undefined;
    const bytes = this.peer.memory.readBytes(frame * 4096 + offset, length);
    return isFault(bytes) ? undefined : bytes;
  }
}
