// How long a tunnel waits for a target that is on its way (TargetPendingError): an Auto Scaling group that
// replaces an instance terminates the old one, launches a new one (pending, ~1 min) and its SSM Agent registers
// with Session Manager once the OS has booted (typically 2-5 min in all; the group's default health check
// grace period is 300 s). The built-in retry budget (5 attempts, 2 min) is for network blips and would end the
// tunnel in the middle of that, so this tap answers for pending targets itself: look again with backoff,
// doubling from the retry base delay up to `pollMax`, and give up after `waitMs` (15 min by default: three
// times a slow replacement; past that, nothing is coming and the user should hear so).
import type { ErrorInfo, RecoveryDecision } from '../../src/plugin-kit/index.js';
import { TARGET_PENDING } from './errors.js';

export interface PendingPolicy {
  waitMs: number;
  pollMaxMs: number;
  baseDelayMs: number;
}

export const DEFAULT_WAIT_MS = 15 * 60_000;
export const DEFAULT_POLL_MAX_MS = 15_000;

/** A decision for a pending target; undefined for every other failure (the next strategy decides). */
export function decidePending(info: ErrorInfo, policy: PendingPolicy): RecoveryDecision | undefined {
  const c = info.classification;
  if (c.class !== 'target' || c.code !== TARGET_PENDING) return undefined;
  const delay = Math.min(policy.pollMaxMs, policy.baseDelayMs * 2 ** Math.max(0, info.attempt - 1));
  if (info.elapsedMs + delay > policy.waitMs) {
    const minutes = Math.round(info.elapsedMs / 60_000);
    return {
      action: 'fail',
      reason: `no instance came online within the ${Math.round(policy.waitMs / 1000)} s wait for a replacement`,
      message: `${c.title}: ${c.detail} (gave up after ${minutes} min of waiting)`,
      guidance:
        'check the Auto Scaling group activity and the instance status checks in the EC2 console, then run stormtunnel tunnel up NAME',
    };
  }
  return { action: 'retry', afterMs: delay, reason: 'target pending (replacement launching); looking again' };
}
