// Failures of a tunnel's session that the tunnel reports to onError (the retry plugin classifies them
// through `errorClass`).
import { StormtunnelError } from '../../src/plugin-kit/index.js';

/** The data channel did not open, or the session ended or died under a tunnel: a new session may help. */
export class SessionLostError extends StormtunnelError {
  readonly errorClass = 'network';
}

/** ResumeSession says the session is over: resuming again is pointless, a new session is needed. */
export class SessionGoneError extends StormtunnelError {
  readonly errorClass = 'target';
}
