import { writeToFrame } from '../machine/memory';
import { HV_SYNIC } from './abi/synic';
import { HV_MESSAGE_FLAG_PENDING, HV_MESSAGE_PAYLOAD_OFFSET, hv_message_header } from './abi/layouts';
import { encodeStruct } from '../abi/struct';
import type { ViridianVp } from './vp';

/*
 * SynIC message and event-flag delivery (TLFS inter-partition-communication.md, "SynIC
 * Messages", "SynIC Event Flags", "SINTx Registers", "EOM Register").
 */

/** A message buffer queued for a SINT of a VP. */
export type QueuedMessage = {
  readonly type: number;
  /** HV_MESSAGE header offset 8: the sending port's id (0 for hypervisor messages such as timer expiry). */
  readonly sender: bigint;
  /** The guest port whose buffer holds the message (deleting the port drops it). */
  readonly portId?: number;
  /** The payload, built when the message reaches the SIM slot (a timer message records its delivery time). */
  readonly payload: (now: bigint) => Uint8Array;
  /** Called once the message sits in the SIM slot and its buffer is free again. */
  readonly released: () => void;
};

/** What SynIC delivery needs from the partition. */
export type SynicHost = {
  readonly now: () => bigint;
  /** Sets an interrupt vector pending at a VP's local APIC (waking it from HLT). */
  readonly raise: (vp: ViridianVp, vector: number) => void;
  /** CPUID 0x40000003 EDX bit 17 (SintPollingModeAvailable); without it SINTx bit 18 is RsvdP. */
  readonly pollingAvailable: boolean;
};

const SLOT_BYTES = HV_SYNIC.HV_MESSAGE_SIZE;
const FLAGS_OFFSET = hv_message_header.fields.message_flags.offset;

/** SCONTROL.Enable. */
export function synicEnabled(vp: ViridianVp): boolean {
  return (vp.scontrol & 1n) === 1n;
}

/** Whether messages can reach the SIM page: SynIC and SIMP enabled and the page mapped. */
export function simReady(vp: ViridianVp): boolean {
  return synicEnabled(vp) && (vp.simp & 1n) === 1n && vp.sim.mappedAt !== undefined;
}

/** Whether event flags can reach the SIEF page. */
export function siefReady(vp: ViridianVp): boolean {
  return synicEnabled(vp) && (vp.siefp & 1n) === 1n && vp.sief.mappedAt !== undefined;
}

/** SINTx.Masked. */
export function sintMasked(vp: ViridianVp, sint: number): boolean {
  return ((vp.sints[sint] ?? 0n) & BigInt(HV_SYNIC.HV_SYNIC_SINT_MASKED)) !== 0n;
}

/** SINTx.AutoEOI. */
export function sintAutoEoi(vp: ViridianVp, sint: number): boolean {
  return ((vp.sints[sint] ?? 0n) & BigInt(HV_SYNIC.HV_SYNIC_SINT_AUTO_EOI)) !== 0n;
}

/** SINTx bit 18, Polling: the source is unmasked but raises no interrupt. */
export const SINT_POLLING = 1n << 18n;

/** SINTx.Vector. */
export function sintVector(vp: ViridianVp, sint: number): number {
  return Number((vp.sints[sint] ?? 0n) & 0xffn);
}

/**
 * Raises the edge-triggered interrupt of a SINT: lost when the SINT is masked, not generated in
 * polling mode ("SINTx Registers"; the Polling bit counts only where CPUID offers it).
 */
export function signalSint(host: SynicHost, vp: ViridianVp, sint: number): void {
  const reg = vp.sints[sint] ?? 0n;
  if (sintMasked(vp, sint) || (host.pollingAvailable && (reg & SINT_POLLING) !== 0n)) return;
  host.raise(vp, sintVector(vp, sint));
}

/** Queues a message for a SINT and tries to deliver it ("another message buffer is queued"). */
export function enqueueMessage(host: SynicHost, vp: ViridianVp, sint: number, message: QueuedMessage): void {
  (vp.queues[sint] as QueuedMessage[]).push(message);
  deliverQueued(host, vp, sint);
}

/**
 * Delivers the oldest queued message of a SINT if its SIM slot is empty (MessageType ==
 * HvMessageTypeNone), then raises the SINT. When the slot is busy the message stays queued and
 * the MessagePending flag of the message in the slot is set, so that the guest knows to write EOM.
 */
export function deliverQueued(host: SynicHost, vp: ViridianVp, sint: number): void {
  const queue = vp.queues[sint] as QueuedMessage[];
  const head = queue[0];
  if (!head || !simReady(vp)) return;
  const frame = vp.sim.frame;
  const slot = sint * SLOT_BYTES;
  if (frame.view.getUint32(slot, true) !== 0) {
    const flags = frame.view.getUint8(slot + FLAGS_OFFSET);
    if ((flags & HV_MESSAGE_FLAG_PENDING) === 0) writeToFrame(frame, slot + FLAGS_OFFSET, Uint8Array.of(flags | HV_MESSAGE_FLAG_PENDING));
    return;
  }
  queue.shift();
  const payload = head.payload(host.now());
  const image = new Uint8Array(SLOT_BYTES);
  image.set(
    encodeStruct(hv_message_header, {
      message_type: head.type,
      payload_size: payload.length,
      message_flags: queue.length > 0 ? HV_MESSAGE_FLAG_PENDING : 0,
      sender: head.sender,
    }),
  );
  image.set(payload, HV_MESSAGE_PAYLOAD_OFFSET);
  writeToFrame(frame, slot, image);
  head.released();
  signalSint(host, vp, sint);
}

/** Rescans every message queue of a VP (EOM, an APIC EOI, SynIC or SIMP enabled, a SINT unmasked). */
export function rescanQueues(host: SynicHost, vp: ViridianVp): void {
  for (let sint = 0; sint < HV_SYNIC.HV_SYNIC_SINT_COUNT; sint++) deliverQueued(host, vp, sint);
}

/** Event flags per SINT: 256 bytes of HV_SYNIC_EVENT_FLAGS. */
export const EVENT_FLAGS_PER_SINT = 2048;

/**
 * Sets event flag `flag` of a SINT in a VP's SIEF page; raises the SINT only when the flag was
 * clear before ("Event Flag Delivery"). The caller has checked that the SIEF page is ready and
 * the SINT unmasked (HvCallSignalEvent fails otherwise).
 */
export function setEventFlag(host: SynicHost, vp: ViridianVp, sint: number, flag: number): 'set' | 'already-set' {
  const frame = vp.sief.frame;
  const at = sint * (EVENT_FLAGS_PER_SINT / 8) + (flag >>> 3);
  const bit = 1 << (flag & 7);
  const before = frame.view.getUint8(at);
  if ((before & bit) !== 0) return 'already-set';
  writeToFrame(frame, at, Uint8Array.of(before | bit));
  signalSint(host, vp, sint);
  return 'set';
}
