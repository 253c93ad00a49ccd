// Error classes of the data-channel implementation, so callers can branch with instanceof.

/** A data-channel frame failed validation (the message is dropped; the peer will resend it). */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

/** The agent could not connect to the destination port (Flag ConnectToPortError). */
export class ConnectToPortError extends Error {
  override readonly name = 'ConnectToPortError';
  constructor(message = 'Connection to destination port failed, check SSM Agent logs.') {
    super(message);
  }
}

/** The handshake failed or timed out. */
export class HandshakeError extends Error {
  override readonly name = 'HandshakeError';
}

/** The data channel is closed (terminated, channel_closed, resume budget exhausted...). */
export class DataChannelClosedError extends Error {
  override readonly name = 'DataChannelClosedError';
}

/** smux protocol violation or session closed. */
export class SmuxError extends Error {
  override readonly name = 'SmuxError';
}
