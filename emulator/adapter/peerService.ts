import { isFault } from '../machine/memory';
import { HV_X64_MSR } from '../viridian/abi/msrs';
import { HV_MESSAGE_FLAG_PENDING } from '../viridian/abi/layouts';
import { SHARED_INFO } from '../xen/abi/layouts';
import type { XenDomain } from '../xen/domain';
import type { PeerActions } from '../xen/peer';
import type { ShimRootEndpoints } from './host';
import type { ShimCore } from './platform/shimCore';
import { decodePeerRequest, encodePeerReply, PEER_MESSAGE_TYPE, performPeerRequest, type PeerReply } from './peerProtocol';

/**
 * The adapter's half of the peer protocol (peerProtocol.ts): it carries out the peer's actions on
 * its copy of dom0, answers each through the reply connection, and signals the notify
 * connection for every peer port the guest makes pending.
 */
export class PeerService {
  private readonly core: ShimCore;
  private readonly peer: XenDomain;
  private readonly actions: PeerActions;
  private readonly root: ShimRootEndpoints;
  /** Peer ports pending and unmasked at the last sync. */
  private notified = new Set<number>();

  constructor(core: ShimCore, peer: XenDomain, actions: PeerActions, root: ShimRootEndpoints) {
    this.core = core;
    this.peer = peer;
    this.actions = actions;
    this.root = root;
  }

  /** The peer SINT fired on the peer VP: event flags (peer sends) first, then the message slot. */
  onSint(vp: number): void {
    this.takeFlags(vp);
    this.takeMessage(vp);
  }

  /** dom0's EVTCHNOP_send on port P arrives as event flag P; clear each flag (LOCK AND), then send. */
  private takeFlags(vp: number): void {
    const mem = this.core.host.memory;
    const area = this.core.driver.siefArea(vp, this.root.sint);
    const bytes = mem.readBytes(area, 256);
    if (isFault(bytes)) return;
    for (let byte = 0; byte < 256; byte++) {
      const bits = bytes[byte] as number;
      if (bits === 0) continue;
      mem.write8(area + byte, 0);
      for (let bit = 0; bit < 8; bit++) {
        if ((bits & (1 << bit)) === 0) continue;
        const port = 8 * byte + bit;
        this.reply(vp, { id: 0, op: 'send', port, r: this.actions.send(port) });
      }
    }
  }

  /** A request in the peer SINT's message slot: carry it out, answer, free the slot (and EOM when more wait). */
  private takeMessage(vp: number): void {
    const mem = this.core.host.memory;
    const slot = this.core.driver.simSlot(vp, this.root.sint);
    const type = mem.read32(slot);
    if (isFault(type) || type === 0) return;
    const size = mem.read8(slot + 4);
    const flags = mem.read8(slot + 5);
    const payload = isFault(size) ? undefined : mem.readBytes(slot + 16, size);
    mem.write32(slot, 0);
    if (!isFault(flags) && (flags & HV_MESSAGE_FLAG_PENDING) !== 0) this.core.driver.wrmsr(vp, HV_X64_MSR.HV_X64_MSR_EOM, 0n);
    if (type !== PEER_MESSAGE_TYPE.request || payload === undefined || isFault(payload)) return;
    const decoded = decodePeerRequest(payload);
    if (!decoded) return;
    this.reply(vp, { id: decoded.id, op: decoded.request.op, r: performPeerRequest(this.actions, decoded.request) });
  }

  private reply(vp: number, reply: PeerReply): void {
    this.core.driver.postMessage(vp, this.root.replyConnection, PEER_MESSAGE_TYPE.reply, encodePeerReply(reply));
  }

  /**
   * Signals the notify connection (flag = peer port) for every peer port that became pending and
   * unmasked since the last sync: that is how dom0 learns of the guest's EVTCHNOP_send.
   */
  sync(vp: number): void {
    const mem = this.peer.memory;
    const base = this.peer.sharedInfoGpa;
    const words = Math.ceil((this.peer.evtchn.maxPort + 1) / 8);
    const pending = mem.readBytes(base + SHARED_INFO.evtchn_pending, words);
    const mask = mem.readBytes(base + SHARED_INFO.evtchn_mask, words);
    if (isFault(pending) || isFault(mask)) return;
    const now = new Set<number>();
    for (let byte = 0; byte < words; byte++) {
      const bits = (pending[byte] as number) & ~(mask[byte] as number);
      for (let bit = 0; bit < 8; bit++) if (bits & (1 << bit)) now.add(8 * byte + bit);
    }
    for (const port of now) if (!this.notified.has(port)) this.core.driver.signalEvent(vp, this.root.notifyConnection, port);
    this.notified = now;
  }
}
