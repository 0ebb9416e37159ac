/**
 * The system-under-test boundary: the only place in harness/ that imports the emulator. Every
 * other harness module reaches the models, the machine and the ABI tables through this file, so
 * that replacing the emulator (or an adapter behind it) touches one folder.
 */
export * from '../../emulator/index';
export * from './adapterApi';
export * from './worlds/index';
export * as referenceAdapter from '../../emulator/adapter/index';
export type { PeerRequest, PeerResult, PeerReply } from '../../emulator/adapter/peerProtocol';
export * from './loadAdapter';
export * from './process/index';
