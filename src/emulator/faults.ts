// Per-operation fault injection: throttling (with Retry-After), 5xx, timeouts, connection resets and slow
// answers, each failure in the error shape of the operation's protocol so the SDK classifies it as AWS's
// would be.
import { jsonRpcError, queryError, restJsonError, type Exchange } from './http.js';
import type { ActiveFault, FaultSpec } from './types.js';

const KINDS = new Set(['throttle', '5xx', 'timeout', 'reset', 'slow']);

export class FaultError extends Error {}

export class Faults {
  private faults: ActiveFault[] = [];
  private nextId = 1;
  private held = new Set<{ timer: NodeJS.Timeout; ex: Exchange }>();
  private slowed = new Set<{ timer: NodeJS.Timeout; go: () => void }>();

  add(spec: FaultSpec): ActiveFault {
    if (!spec || typeof spec.operation !== 'string' || !spec.operation)
      throw new FaultError('operation is required');
    if (!KINDS.has(spec.kind)) throw new FaultError(`kind must be one of ${[...KINDS].join(', ')}`);
    const count = spec.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new FaultError('count must be a positive integer');
    const status = spec.status ?? 500;
    if (spec.kind === '5xx' && (!Number.isInteger(status) || status < 500 || status > 599)) {
      throw new FaultError('status must be 500-599');
    }
    const retryAfterSeconds = spec.retryAfterSeconds ?? 1;
    if (!(retryAfterSeconds >= 0)) throw new FaultError('retryAfterSeconds must be >= 0');
    const holdSeconds = spec.holdSeconds ?? 60;
    if (!(holdSeconds > 0 && holdSeconds <= 600)) throw new FaultError('holdSeconds must be in (0, 600]');
    const fault: ActiveFault = {
      id: this.nextId++,
      operation: spec.operation,
      kind: spec.kind,
      count,
      remaining: count,
      retryAfterSeconds,
      status,
      holdSeconds,
    };
    this.faults.push(fault);
    return fault;
  }

  list(): ActiveFault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** Removes every fault; requests held by a `slow` fault are answered now. */
  clear(): void {
    this.faults = [];
    for (const s of this.slowed) {
      clearTimeout(s.timer);
      s.go();
    }
    this.slowed.clear();
  }

  /**
   * A `slow` fault: the request is served as usual after `holdSeconds` (or at `clear()`), as over a slow
   * network: the client's request is out and its answer has not come yet.
   */
  hold(fault: ActiveFault): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        go: resolve,
        timer: setTimeout(() => {
          this.slowed.delete(entry);
          resolve();
        }, fault.holdSeconds * 1000),
      };
      this.slowed.add(entry);
    });
  }

  /** Consumes one use of the first fault matching the operation. */
  take(operation: string): ActiveFault | undefined {
    const f = this.faults.find((x) => x.remaining > 0 && (x.operation === operation || x.operation === '*'));
    if (!f) return undefined;
    f.remaining--;
    if (f.remaining === 0) this.faults = this.faults.filter((x) => x !== f);
    return f;
  }

  /** Answers the exchange with the fault. Returns once the response is settled (or the socket is gone). */
  apply(ex: Exchange, fault: ActiveFault): void {
    ex.fault = fault.kind;
    switch (fault.kind) {
      case 'reset':
        ex.errorCode = 'ECONNRESET';
        ex.req.socket.destroy();
        return;
      case 'timeout': {
        ex.errorCode = 'Timeout';
        // Hold the request unanswered; the client's own timeout (or the hold limit) ends it.
        const entry = {
          ex,
          timer: setTimeout(() => {
            this.held.delete(entry);
            ex.req.socket.destroy();
          }, fault.holdSeconds * 1000),
        };
        this.held.add(entry);
        ex.req.socket.once('close', () => {
          clearTimeout(entry.timer);
          this.held.delete(entry);
        });
        return;
      }
      case 'throttle':
        return throttle(ex, fault.retryAfterSeconds);
      case '5xx':
        return serverError(ex, fault.status);
      case 'slow':
        throw new Error('a slow fault holds the request (hold), it does not answer it');
    }
  }

  /** Drops every held request (on close or reset); slowed ones are let through. */
  releaseAll(): void {
    for (const s of this.slowed) {
      clearTimeout(s.timer);
      s.go();
    }
    this.slowed.clear();
    for (const h of this.held) {
      clearTimeout(h.timer);
      h.ex.req.socket.destroy();
    }
    this.held.clear();
  }
}

function throttle(ex: Exchange, retryAfter: number): void {
  const headers = { 'retry-after': String(retryAfter) };
  const message = 'Rate exceeded';
  switch (ex.service) {
    case 'sso':
      return restJsonError(ex, 429, 'TooManyRequestsException', { message }, headers);
    case 'sso-oidc':
      return restJsonError(
        ex,
        429,
        'ThrottlingException',
        { error: 'slow_down', error_description: message },
        headers,
      );
    case 'sts':
      // STS answers throttling as awsQuery code Throttling with HTTP 400.
      return queryError(ex, 400, 'Throttling', message, headers);
    default:
      return jsonRpcError(ex, 400, 'ThrottlingException', message, headers);
  }
}

function serverError(ex: Exchange, status: number): void {
  const message = 'An internal error occurred (injected fault)';
  switch (ex.service) {
    case 'sso':
      return restJsonError(ex, status, 'InternalServerException', { message });
    case 'sso-oidc':
      return restJsonError(ex, status, 'InternalServerException', {
        error: 'server_error',
        error_description: message,
      });
    case 'sts':
      return queryError(ex, status, status === 503 ? 'ServiceUnavailable' : 'InternalFailure', message);
    default:
      return jsonRpcError(ex, status, 'InternalServerError', message);
  }
}
