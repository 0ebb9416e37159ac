/** Adapters as separate programs: the adapter protocol (docs/adapter-protocol.md), both of its sides. */
export { PROTOCOL_VERSION } from './protocol';
export { CommandAdapter, type AdapterCommandSpec, type ProbeResult } from './commandAdapter';
export { AdapterProcessError } from './adapterProcess';
export { DEFAULT_CALL_TIMEOUT_MS, MAX_LINE_BYTES, MAX_OPS_PER_REQUEST, START_TIMEOUT_MS } from './limits';
export { killAdapterProcessGroup, setAdapterProcessListener } from './channel';
export { adapterOptionOf, commandOfSource, commandSource, shellQuote } from './commandSource';
export { serveAdapter, type ServeOptions } from './server/serve';
export { StdioLines, type LineIo } from './server/stdioLines';
