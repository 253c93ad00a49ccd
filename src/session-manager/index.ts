// Public entry point of the Session Manager data-channel implementation.
export { openDataChannel } from './client.js';
export {
  ConnectToPortError,
  DataChannelClosedError,
  FrameError,
  HandshakeError,
  SmuxError,
} from './errors.js';
export { decodeMessage, encodeMessage } from './frame.js';
export { Sequencer } from './sequencer.js';
export { SmuxSession, SmuxStream } from './smux.js';
export {
  agentSmuxKeepAlive,
  agentUsesMux,
  CLIENT_VERSION,
  clientSmuxKeepAlive,
  clientUsesMux,
  compareVersions,
} from './versions.js';
export * from './types.js';
