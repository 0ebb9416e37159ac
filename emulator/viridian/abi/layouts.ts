import { defineStruct, u16, u32, u64, u8 } from '../../abi/struct';

/*
 * x64 layouts of the Hyper-V structures the Viridian model reads and writes: the TLFS Markdown
 * pages (virtualization/hyper-v-on-windows/tlfs/hypercalls/*.md, datatypes/*.md), TLFS v2.0A
 * section 20 for the debug calls, and Linux include/hyperv/hvgdk_mini.h where it declares them.
 */

/** HvCallFlushVirtualAddressSpace / List input header (struct hv_tlb_flush), 24 bytes; List adds GVA ranges. */
export const hv_tlb_flush = defineStruct('hv_tlb_flush', 24, { address_space: u64(0), flags: u64(8), processor_mask: u64(16) });

/** HvCallFlushVirtualAddressSpaceEx / ListEx fixed header (struct hv_tlb_flush_ex), 32 bytes; bank contents follow as the variable header. */
export const hv_tlb_flush_ex = defineStruct('hv_tlb_flush_ex', 32, { address_space: u64(0), flags: u64(8), format: u64(16), valid_bank_mask: u64(24) });

/** HvCallSendSyntheticClusterIpi input (struct hv_send_ipi), 16 bytes. */
export const hv_send_ipi = defineStruct('hv_send_ipi', 16, { vector: u32(0), target_vtl: u8(4), reserved_b: u8(5), reserved_w: u16(6), cpu_mask: u64(8) });

/** HvCallSendSyntheticClusterIpiEx fixed header, 24 bytes; bank contents follow as the variable header. */
export const hv_send_ipi_ex = defineStruct('hv_send_ipi_ex', 24, { vector: u32(0), target_vtl: u8(4), reserved_b: u8(5), reserved_w: u16(6), format: u64(8), valid_bank_mask: u64(16) });

/** HvCallNotifyLongSpinWait input, 8 bytes: SpinCount and RsvdZ. */
export const hv_notify_long_spin_wait = defineStruct('hv_notify_long_spin_wait', 8, { spin_count: u32(0), reserved: u32(4) });

/** HvCallPostMessage input, 256 bytes: ConnectionId, RsvdZ, MessageType, PayloadSize, Message[240]. */
export const hv_post_message = defineStruct('hv_post_message', 256, { connection_id: u32(0), reserved: u32(4), message_type: u32(8), payload_size: u32(12) });
/** Offset of the payload in HvCallPostMessage input and in HV_MESSAGE. */
export const HV_MESSAGE_PAYLOAD_OFFSET = 16;

/** HvCallSignalEvent input, 8 bytes: ConnectionId, FlagNumber, RsvdZ. */
export const hv_signal_event = defineStruct('hv_signal_event', 8, { connection_id: u32(0), flag_number: u16(4), reserved: u16(6) });

/** HV_MESSAGE header (struct hv_message_header), 16 bytes; the payload follows. */
export const hv_message_header = defineStruct('hv_message_header', 16, {
  message_type: u32(0),
  payload_size: u8(4),
  message_flags: u8(5),
  reserved: u16(6),
  /** Sender partition / port id (HV_PORT_ID in bits 31:0); 0 for timer messages. */
  sender: u64(8),
});
/** HV_MESSAGE_FLAGS.MessagePending. */
export const HV_MESSAGE_FLAG_PENDING = 0x1;

/** HV_TIMER_MESSAGE_PAYLOAD (struct hv_timer_message_payload), 24 bytes. */
export const hv_timer_message_payload = defineStruct('hv_timer_message_payload', 24, { timer_index: u32(0), reserved: u32(4), expiration_time: u64(8), delivery_time: u64(16) });

/** HV_REFERENCE_TSC_PAGE (struct ms_hyperv_tsc_page) header; the rest of the page is reserved. */
export const hv_reference_tsc_page = defineStruct('hv_reference_tsc_page', 24, { tsc_sequence: u32(0), reserved1: u32(4), tsc_scale: u64(8), tsc_offset: u64(16) });

/** HvPostDebugData input header (TLFS v2.0A 20.3.1): Count, Options, then Data. */
export const hv_post_debug_data = defineStruct('hv_post_debug_data', 8, { count: u32(0), options: u32(4) });
/** HvPostDebugData output: PendingCount, padding. */
export const hv_post_debug_data_output = defineStruct('hv_post_debug_data_output', 8, { pending_count: u32(0) });
/** HvRetrieveDebugData input (TLFS v2.0A 20.3.2): Count, Options, Timeout. */
export const hv_retrieve_debug_data = defineStruct('hv_retrieve_debug_data', 16, { count: u32(0), options: u32(4), timeout: u64(8) });
/** HvRetrieveDebugData output header: RetrievedCount, RemainingCount, then Data. */
export const hv_retrieve_debug_data_output = defineStruct('hv_retrieve_debug_data_output', 8, { retrieved_count: u32(0), remaining_count: u32(4) });
/** HvResetDebugSession input (TLFS v2.0A 20.3.3): Options, padding. */
export const hv_reset_debug_session = defineStruct('hv_reset_debug_session', 8, { options: u32(0) });

/** HvCallStartVirtualProcessor input (TLFS HvCallStartVirtualProcessor, x64): 16 bytes, then a 224-byte HV_INITIAL_VP_CONTEXT. */
export const hv_start_virtual_processor = defineStruct('hv_start_virtual_processor', 240, { partition_id: u64(0), vp_index: u32(8), target_vtl: u8(12), reserved_b: u8(13), reserved_w: u16(14) });

/** HvExtCallQueryCapabilities output: Capabilities. */
export const hv_ext_query_capabilities_output = defineStruct('hv_ext_query_capabilities_output', 8, { capabilities: u64(0) });

/** Every Viridian layout, for the layout test. */
export const VIRIDIAN_LAYOUTS = [
  hv_tlb_flush,
  hv_tlb_flush_ex,
  hv_send_ipi,
  hv_send_ipi_ex,
  hv_notify_long_spin_wait,
  hv_post_message,
  hv_signal_event,
  hv_message_header,
  hv_timer_message_payload,
  hv_reference_tsc_page,
  hv_post_debug_data,
  hv_post_debug_data_output,
  hv_retrieve_debug_data,
  hv_retrieve_debug_data_output,
  hv_reset_debug_session,
  hv_start_virtual_processor,
  hv_ext_query_capabilities_output,
] as const;
