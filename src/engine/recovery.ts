// Runs an operation and carries out onError's decision on each failure: wait and retry, re-authenticate,
// or fail with the product's message. The one loop every plugin and command uses, so recovery is exact
// and observable in one place.
import type { Classification } from './classify.js';
import { StormtunnelError } from './errors.js';
import type { Clock, ErrorReport, Logger, RecoverableOperation, RecoveryDecision } from './types.js';

/** Recovery gave up: carries the classification; the message is the product's ("Contact AWS Administrator: ..."). */
export class RecoveryFailedError extends StormtunnelError {
  readonly errorClass: string;
  constructor(
    readonly classification: Classification,
    readonly attempts: number,
    readonly decision: RecoveryDecision,
    cause: unknown,
  ) {
    const message =
      decision.action === 'fail' && decision.message
        ? decision.message
        : `${classification.title}: ${classification.detail}`;
    const hint = decision.action === 'fail' && decision.guidance ? decision.guidance : classification.next;
    super(message, { cause, exitCode: classification.exitCode, hint });
    this.errorClass = classification.class;
  }
}

export interface RecoveryDeps {
  handleError(report: ErrorReport): Promise<{ decision: RecoveryDecision; classification: Classification }>;
  clock: Clock;
  signal: AbortSignal;
  logger: Logger;
  plugin: string | undefined;
}

export async function runWithRecovery<T>(
  deps: RecoveryDeps,
  op: RecoverableOperation,
  fn: (attempt: number) => Promise<T>,
): Promise<T> {
  const outage = op.outage ?? { attempts: 0, startedAt: deps.clock.now() };
  let reauthenticated = false;
  for (;;) {
    const attempt = outage.attempts + 1;
    try {
      return await fn(attempt);
    } catch (error) {
      if (deps.signal.aborted) throw error;
      outage.attempts = attempt;
      const { decision, classification } = await deps.handleError({
        phase: op.phase,
        operation: op.operation,
        attempt,
        elapsedMs: deps.clock.now() - outage.startedAt,
        plugin: deps.plugin,
        error,
        ...(op.profile ? { profile: op.profile } : {}),
        ...(op.ssoSession ? { ssoSession: op.ssoSession } : {}),
        ...(op.action ? { action: op.action } : {}),
      });
      if (decision.action === 'retry') {
        deps.logger.info(
          `${op.operation} failed (${classification.title}); retrying in ${formatMs(decision.afterMs)}`,
          {
            attempt,
            reason: decision.reason,
            // Not "code": the redactor hides fields of that name (OAuth authorization codes).
            errorCode: classification.code,
          },
        );
        await deps.clock.sleep(decision.afterMs, deps.signal);
        continue;
      }
      if (decision.action === 'reauthenticate' && op.reauthenticate && !reauthenticated) {
        reauthenticated = true;
        // Usually a silent refresh answers this (a warning here read like a failure that then did not
        // happen); when it cannot, the failure that follows carries the product's message.
        deps.logger.info(
          `${op.operation}: the service refused the credentials (${classification.title}); getting fresh ones and trying again`,
          { reason: decision.reason },
        );
        await op.reauthenticate();
        continue;
      }
      throw new RecoveryFailedError(classification, attempt, decision, error);
    }
  }
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s` : `${Math.round(ms)} ms`;
}
