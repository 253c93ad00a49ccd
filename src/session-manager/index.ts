// Public entry point of the Session Manager data-channel implementation.
export { DEFAULT_MAX_PAYLOAD_BYTES, openDataChannel } from './client.js';
export {
  ConnectToPortError,
  DataChannelClosedError,
  FrameError,
  HandshakeError,
  SmuxError,
} from './errors.js';
export { decodeMessage, encodeMessage } from './frame.js';
export { DEFAULT_MESSAGE_BURST, DEFAULT_MESSAGE_RATE, MessagePacer } from './pacer.js';
export { resumeWithBackoff, type ResumeWithBackoffOptions } from './resume-policy.js';
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
