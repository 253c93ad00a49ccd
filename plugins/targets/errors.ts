// A target that could not be resolved: one line naming what was looked for and what was found. Class
// `target` (Target Unavailable): not retried by the built-in strategy, the line says what to change.
import { StormtunnelError } from '../../src/plugin-kit/index.js';

export class TargetResolutionError extends StormtunnelError {
  readonly errorClass = 'target';
  constructor(tunnel: string, message: string, hint?: string) {
    super(`tunnel "${tunnel}": ${message}`, hint ? { hint } : {});
  }
}
