import { isFault } from '../../machine/memory';
import { HV_PRIVILEGES_EBX as EBX } from '../abi/cpuid';
import { HV_SYNIC } from '../abi/synic';
import { HV_MESSAGE_PAYLOAD_OFFSET } from '../abi/layouts';
import { MAX_CONNECTION_ID, type RootPort } from '../root';
import { defineCall, status, SUCCESS, type CallContext } from './types';

/*
 * HvCallPostMessage (0x005C) and HvCallSignalEvent (0x005D) from the guest to ports of the root
 * partition. The checks follow the order of the TLFS "Return Values" tables
 * (hypercalls/HvCallPostMessage.md, HvCallSignalEvent.md); the TLFS leaves the order open.
 */

/**
 * The port behind a connection id. HV_CONNECTION_ID keeps its id in bits 23:0 and bits 31:24
 * are reserved (datatypes/hv_connection_id.md); an id with reserved bits names no connection.
 */
function portOf(ctx: CallContext, connectionId: number): RootPort | undefined {
  return connectionId > MAX_CONNECTION_ID ? undefined : ctx.model.root.portOfConnection(connectionId);
}

export const HvCallPostMessage = defineCall({
  name: 'HVCALL_POST_MESSAGE',
  shape: { rep: false, varHead: false, fast: false, inputHeader: 256, inputElement: 0, outputHeader: 0, outputElement: 0 },
  access: { kind: 'privilege', register: 'ebx', bit: EBX.HV_POST_MESSAGES },
  source: 'TLFS hypercalls/HvCallPostMessage.md; inter-partition-communication.md "Guest Message Buffers"',
  handler: (ctx) => {
    const head = ctx.input.bytes(0, 16);
    if (isFault(head)) return { kind: 'intercept', fault: head };
    const view = new DataView(head.buffer, head.byteOffset, 16);
    const [connectionId, reserved, type, size] = [view.getUint32(0, true), view.getUint32(4, true), view.getUint32(8, true), view.getUint32(12, true)];
    const target = portOf(ctx, connectionId);
    if (!target) return status('HV_STATUS_INVALID_CONNECTION_ID');
    if (target.state !== 'active' || target.kind !== 'message') return status('HV_STATUS_INVALID_PORT_ID');
    if (type === 0 || type >= 0x8000_0000 || reserved !== 0) return status('HV_STATUS_INVALID_PARAMETER');
    if (size > HV_SYNIC.HV_MESSAGE_PAYLOAD_BYTE_COUNT) return status(ctx.model.quirks.postMessageTooLong);
    if (target.inbox.length >= ctx.model.config.messageBuffersPerPort) return status('HV_STATUS_INSUFFICIENT_BUFFERS');
    if (target.target === 'no-vp') return status('HV_STATUS_INVALID_VP_INDEX');
    if (target.target === 'synic-disabled') return status('HV_STATUS_INVALID_SYNIC_STATE');
    const payload = ctx.input.bytes(HV_MESSAGE_PAYLOAD_OFFSET, size);
    if (isFault(payload)) return { kind: 'intercept', fault: payload };
    target.inbox.push({ type, payload, time: ctx.model.now });
    return SUCCESS;
  },
});

export const HvCallSignalEvent = defineCall({
  name: 'HVCALL_SIGNAL_EVENT',
  shape: { rep: false, varHead: false, fast: true, inputHeader: 8, inputElement: 0, outputHeader: 0, outputElement: 0 },
  access: { kind: 'privilege', register: 'ebx', bit: EBX.HV_SIGNAL_EVENTS },
  source: 'TLFS hypercalls/HvCallSignalEvent.md; inter-partition-communication.md "Event Flag Delivery"',
  handler: (ctx) => {
    const value = ctx.input.u64(0);
    if (isFault(value)) return { kind: 'intercept', fault: value };
    const connectionId = Number(value & 0xffff_ffffn);
    const flag = Number((value >> 32n) & 0xffffn);
    const reserved = Number(value >> 48n);
    const quirks = ctx.model.quirks;
    const target = portOf(ctx, connectionId);
    if (!target) return status(quirks.signalUnknownConnection);
    if (target.state !== 'active' || target.kind !== 'event') return status('HV_STATUS_INVALID_PORT_ID');
    // KVM and QEMU support only flag number 0 and answer any other with INVALID_PORT_ID (V7).
    if (quirks.signalFlagNumbers === 'zero-only' && flag !== 0) return status('HV_STATUS_INVALID_PORT_ID');
    if (flag >= target.flagCount || reserved !== 0) return status('HV_STATUS_INVALID_PARAMETER');
    if (target.target === 'no-vp') return status('HV_STATUS_INVALID_VP_INDEX');
    if (target.target !== 'ready') return status('HV_STATUS_INVALID_SYNIC_STATE');
    const newlySet = !target.flags.has(flag);
    target.flags.add(flag);
    target.signals.push({ flag, time: ctx.model.now, newlySet });
    return SUCCESS;
  },
});
