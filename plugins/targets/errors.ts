// A target that could not be resolved: one line naming what was looked for and what was found. Class
// `target` (Target Unavailable): not retried by the built-in strategy, the line says what to change.
import { StormtunnelError } from '../../src/plugin-kit/index.js';

export class TargetResolutionError extends StormtunnelError {
  readonly errorClass = 'target';
  constructor(tunnel: string, message: string, hint?: string) {
    super(`tunnel "${tunnel}": ${message}`, hint ? { hint } : {});
  }
}

/** The code of a TargetPendingError, as onError sees it (`classification.code`). */
export const TARGET_PENDING = 'TargetPending';

/**
 * Nothing usable matched *yet*: an Auto Scaling group is replacing the instance (the old one terminating, the
 * new one pending or its agent still registering). Still class `target`, but with code `TargetPending`, which
 * the plugin's own onError tap answers by looking again later (see wait.ts) instead of failing the tunnel.
 */
export class TargetPendingError extends TargetResolutionError {
  readonly code = TARGET_PENDING;
}
