// Every failure (AWS calls, sign-in, token store, tunnels) is classified here, once. The class decides the
// recovery strategy and the message the user sees, from the product's error-message table.
import type { StormtunnelError } from './errors.js';
import { isPluginError, isStormtunnelError, rootCause } from './errors.js';

export type ErrorClass =
  | 'network'
  | 'throttled'
  | 'token-expired'
  | 'sso-config'
  | 'permission-denied'
  | 'credentials-invalid'
  | 'target'
  | 'vetoed'
  | 'usage'
  | 'unknown';

/** The product's messages, keyed by class. */
export const ERROR_TITLES: Readonly<Record<ErrorClass, string>> = Object.freeze({
  network: 'Check Network Connection',
  throttled: 'Rate Limited',
  'token-expired': 'SSO Authentication Required',
  'sso-config': 'SSO Configuration Invalid',
  'permission-denied': 'Contact AWS Administrator',
  'credentials-invalid': 'Update Credentials Required',
  target: 'Target Unavailable',
  vetoed: 'Connection Stopped by Plugin',
  usage: 'Invalid Input',
  unknown: 'Unexpected Error',
});

/** Exit codes by class, so scripts can tell failures apart (documented in docs/troubleshooting.md). */
export const EXIT_CODES: Readonly<Record<ErrorClass, number>> = Object.freeze({
  unknown: 1,
  usage: 2,
  'token-expired': 3,
  'permission-denied': 4,
  'credentials-invalid': 5,
  network: 6,
  throttled: 7,
  target: 8,
  'sso-config': 9,
  vetoed: 10,
});

export interface Classification {
  class: ErrorClass;
  /** The product message, e.g. "Contact AWS Administrator". */
  title: string;
  /** One line saying what happened. */
  detail: string;
  /** One line saying what to do next. */
  next: string;
  /** The AWS error name or Node error code, e.g. "AccessDeniedException", "ECONNRESET". */
  code: string | undefined;
  /** What the service asked us to wait (Retry-After), in ms. */
  retryAfterMs: number | undefined;
  requestId: string | undefined;
  httpStatus: number | undefined;
  /** The denied IAM action, when the message names one (e.g. "ssm:StartSession"). */
  deniedAction: string | undefined;
  exitCode: number;
}

export interface ClassifyContext {
  operation?: string;
  profile?: string;
  ssoSession?: string;
  /** IAM action of the operation, used when a denial message does not name one. */
  action?: string;
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const NETWORK_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'NetworkingError',
]);
const SERVER_NAMES = new Set([
  'InternalServerError',
  'InternalServerException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalError',
]);
const THROTTLE_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'SlowDownException',
  'ProvisionedThroughputExceededException',
]);
const TOKEN_NAMES = new Set([
  'UnauthorizedException',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidGrantException',
  'SsoTokenMissing',
  'RequestExpired',
]);
const SSO_CONFIG_NAMES = new Set([
  'InvalidClientException',
  'UnauthorizedClientException',
  'InvalidScopeException',
  'InvalidRequestException',
  'InvalidRequestRegionException',
  'UnsupportedGrantTypeException',
  'InvalidClientMetadataException',
  'InvalidRedirectUriException',
  'AwsConfigError',
]);
const DENIED_NAMES = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'ForbiddenException',
  'UnauthorizedOperation',
  'AuthorizationErrorException',
  'AuthorizationPendingDenied',
]);
const CREDENTIAL_NAMES = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'InvalidAccessKeyId',
  'AuthFailure',
  'MissingAuthenticationToken',
  'CredentialsProviderError',
]);
const TARGET_NAMES = new Set([
  'TargetNotConnected',
  'InvalidInstanceId',
  'InvalidTarget',
  'InvalidDocument',
  'ConnectToPortError',
  'EADDRNOTAVAIL',
  'TargetUnknown',
]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  errorClass?: unknown;
  error_description?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string; extendedRequestId?: string };
  $response?: { statusCode?: number; headers?: Record<string, string | undefined> };
  cause?: unknown;
}

function errorCode(e: ErrorLike): string | undefined {
  if (typeof e.code === 'string' && e.code) return e.code;
  if (typeof e.name === 'string' && e.name && e.name !== 'Error') return e.name;
  return undefined;
}

/** Retry-After (seconds or HTTP date) or x-amz-retry-after (ms), in ms. */
export function retryAfterMs(
  headers: Record<string, string | undefined> | undefined,
  now = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const key = k.toLowerCase();
    if (key === 'x-amz-retry-after' && /^\d+$/.test(v)) return Number(v);
    if (key === 'retry-after') {
      if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v) * 1000);
      const at = Date.parse(v);
      if (!Number.isNaN(at)) return Math.max(0, at - now);
    }
  }
  return undefined;
}

/** Network errors are often wrapped (fetch's `cause`, AggregateError); look a few levels down. */
function findNetworkCode(e: unknown, depth = 0): string | undefined {
  if (!e || typeof e !== 'object' || depth > 4) return undefined;
  const code = (e as ErrorLike).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  const name = (e as ErrorLike).name;
  if (typeof name === 'string' && NETWORK_NAMES.has(name)) return name;
  if (e instanceof AggregateError)
    for (const inner of e.errors)
      if (findNetworkCode(inner, depth + 1)) return findNetworkCode(inner, depth + 1);
  return findNetworkCode((e as ErrorLike).cause, depth + 1);
}

export function classifyError(error: unknown, context: ClassifyContext = {}): Classification {
  const root = rootCause(error);
  const e = (root && typeof root === 'object' ? root : { message: String(root) }) as ErrorLike;
  // SSO OIDC errors carry their text in error_description; the SDK's message is then "UnknownError".
  const text =
    typeof e.error_description === 'string' && e.error_description
      ? e.error_description
      : typeof e.message === 'string'
        ? e.message
        : String(root);
  const message = text.split('\n')[0]!.trim();
  const code = errorCode(e);
  const httpStatus = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const requestId = e.$metadata?.requestId;
  const op = context.operation ? ` (${context.operation})` : '';
  const who = context.ssoSession
    ? `SSO session "${context.ssoSession}"`
    : context.profile
      ? `profile "${context.profile}"`
      : 'your sign-in';
  const base = { code, requestId, httpStatus, retryAfterMs: undefined, deniedAction: undefined };
  const make = (
    cls: ErrorClass,
    detail: string,
    next: string,
    extra: Partial<Classification> = {},
  ): Classification => ({
    ...base,
    class: cls,
    title: ERROR_TITLES[cls],
    detail,
    next,
    exitCode: EXIT_CODES[cls],
    ...extra,
  });

  // Our own errors that already carry a class.
  if (typeof e.errorClass === 'string' && e.errorClass in ERROR_TITLES) {
    const own = root as StormtunnelError;
    return make(
      e.errorClass as ErrorClass,
      message,
      own.hint ?? defaultNext(e.errorClass as ErrorClass, who),
    );
  }
  // Bad input in the user's files or arguments (our errors, AwsConfigError): exit code 2.
  if ((root as { exitCode?: unknown } | null)?.exitCode === 2) {
    const hint = (root as { hint?: unknown }).hint;
    return make(
      'usage',
      message,
      typeof hint === 'string' ? hint : 'fix the input named above and run the command again',
    );
  }
  if (code === 'ConnectionVetoedError' || (root instanceof Error && root.name === 'ConnectionVetoedError')) {
    return make('vetoed', message, 'the plugin named above decided this; change its settings or the tunnel');
  }

  if (code && THROTTLE_NAMES.has(code)) {
    return make(
      'throttled',
      `AWS is limiting request rates${op}: ${code}`,
      'stormtunnel waits and retries; with many tunnels, start fewer at once',
      {
        retryAfterMs: retryAfterMs(e.$response?.headers),
      },
    );
  }
  if (httpStatus === 429) {
    return make(
      'throttled',
      `AWS is limiting request rates${op} (HTTP 429)`,
      'stormtunnel waits and retries',
      {
        retryAfterMs: retryAfterMs(e.$response?.headers),
      },
    );
  }
  if (code && TOKEN_NAMES.has(code)) {
    const revoked = code === 'InvalidGrantException';
    return make(
      'token-expired',
      revoked
        ? `the sign-in for ${who} was revoked or has ended${op}`
        : `the sign-in for ${who} has expired${op}: ${code}`,
      `run: stormtunnel login${context.profile ? ` --profile ${context.profile}` : ''}`,
    );
  }
  if (code && SSO_CONFIG_NAMES.has(code)) {
    return make(
      'sso-config',
      `${message}${op}`,
      'check sso_start_url, sso_region and sso_registration_scopes in your AWS config (stormtunnel profiles)',
    );
  }
  if (code && DENIED_NAMES.has(code)) {
    const action = /perform:\s*([\w-]+:[\w*]+)/.exec(message)?.[1] ?? context.action;
    return make(
      'permission-denied',
      `${action ? `${action} was denied` : 'access was denied'}${context.profile ? ` for profile "${context.profile}"` : ''}${op}`,
      `ask your AWS administrator to allow ${action ?? 'the action above'} for your role`,
      { deniedAction: action },
    );
  }
  if (code && CREDENTIAL_NAMES.has(code)) {
    return make(
      'credentials-invalid',
      `AWS does not accept the credentials of ${who}${op}: ${code}`,
      'update the access keys in ~/.aws/credentials (aws configure) or sign in again',
    );
  }
  // The local port is the user's choice, not the target's state: invalid input, named with the fix.
  if (code === 'EADDRINUSE') {
    const p = e as { port?: unknown; address?: unknown };
    const { detail, next } = portInUse({
      // Node's listen errors carry them; the message ("... 127.0.0.1:5432") when they do not.
      port: typeof p.port === 'number' ? p.port : Number(/:(\d+)$/.exec(message)?.[1]) || undefined,
      host: typeof p.address === 'string' ? p.address : /\s(\S+):\d+$/.exec(message)?.[1],
    });
    return make('usage', detail, next);
  }
  if (code && TARGET_NAMES.has(code)) {
    return make('target', `${message}${op}`, targetNext(code));
  }
  const net = findNetworkCode(root);
  if (net) {
    return make(
      'network',
      `could not reach AWS${op}: ${net}`,
      'check your network connection, VPN and proxy settings',
      { code: net },
    );
  }
  if ((code && SERVER_NAMES.has(code)) || (httpStatus !== undefined && httpStatus >= 500)) {
    return make(
      'network',
      `AWS had a temporary failure${op}: ${code ?? `HTTP ${httpStatus}`}`,
      'stormtunnel retries; if it persists, check the AWS Health Dashboard',
    );
  }
  return make('unknown', `${message}${op}`, 'run again with --verbose for details');
}

function defaultNext(cls: ErrorClass, who: string): string {
  if (cls === 'token-expired') return `sign in again to ${who}: stormtunnel login`;
  return 'run again with --verbose for details';
}

function targetNext(code: string): string {
  switch (code) {
    case 'TargetNotConnected':
      return 'check that the instance is running in that region, has the SSM Agent and the AmazonSSMManagedInstanceCore role';
    case 'ConnectToPortError':
      return 'nothing listens on the remote port on the target: check the service and remotePort';
    case 'InvalidDocument':
      return 'the Session Manager document is not available in this account or region';
    default:
      return 'check the target instance id and region of the tunnel';
  }
}

/** Whether the class is worth retrying automatically. */
export function isTransient(c: Classification): boolean {
  return c.class === 'network' || c.class === 'throttled';
}

/** Who holds a local port, when it is another `stormtunnel up` (asked over its control socket). */
export interface PortHolder {
  pid: number;
  tunnel: string;
}

/**
 * The one line for a local port that cannot be bound: `check`'s bind test, `up`'s own test before it starts,
 * and a listener that loses the race (Node's EADDRINUSE) all say this.
 */
export function portInUse(p: {
  port?: number | undefined;
  host?: string | undefined;
  tunnel?: string;
  heldBy?: PortHolder;
}): {
  detail: string;
  next: string;
} {
  const where = `local port ${p.port ?? '?'}${p.host ? ` on ${p.host}` : ''}`;
  const whose = p.tunnel ? `tunnel "${p.tunnel}": ` : '';
  const forTunnel = p.tunnel ? ` for tunnel "${p.tunnel}"` : '';
  if (p.heldBy) {
    return {
      detail: `${whose}${where} is already in use by another stormtunnel up (pid ${p.heldBy.pid}, tunnel "${p.heldBy.tunnel}")`,
      next: `that stormtunnel up already runs it: use it, stop it first, or pick another localPort${forTunnel} (0 picks a free one)`,
    };
  }
  return {
    detail: `${whose}${where} is already in use by another program`,
    next: `pick another localPort${forTunnel} (0 picks a free one), or stop the program that uses it`,
  };
}

/** What a command prints for a failure: one line, the next step, the exit code. */
export interface FailureReport {
  message: string;
  hint: string | undefined;
  exitCode: number;
  /** The recovery loop's or our classification (request id and code for --verbose), when there is one. */
  classification: Classification | undefined;
}

/**
 * The words and exit code of a failure, the same for every command (main.ts prints them; `status` shows
 * them per profile). Our own errors keep their message and hint; AWS and system errors are classified into
 * the product's messages ("Contact AWS Administrator: ...").
 */
export function reportOf(err: unknown, context: ClassifyContext = {}): FailureReport {
  const e = err as { message?: unknown; hint?: unknown; exitCode?: unknown; classification?: Classification };
  // The recovery loop's classification, also when a plugin tag wraps it.
  let classification = e?.classification ?? (rootCause(err) as typeof e | undefined)?.classification;
  // An AWS or system error raised inside a plugin's tap (e.g. StartDeviceAuthorization refusing the start URL)
  // is classified like an untagged one; only failures nobody recognizes stay "plugin x failed in hook".
  const known =
    isPluginError(err) && !isStormtunnelError(rootCause(err)) ? classifyError(err, context) : undefined;
  classification ??= known;
  // A veto raised outside the recovery loop (rds-token's prepareConnection) reads as the loop reports one
  // (up, forward, ssh-proxy): the class's title, its words and its hint.
  const direct = classification ? undefined : classifyError(err, context);
  if (direct?.class === 'vetoed') {
    return {
      message: `${direct.title}: ${direct.detail}`,
      hint: direct.next,
      exitCode: direct.exitCode,
      classification: direct,
    };
  }
  if (typeof e?.exitCode === 'number' && (!known || known.class === 'unknown')) {
    return {
      message: typeof e.message === 'string' ? e.message : String(err),
      hint: typeof e.hint === 'string' ? e.hint : undefined,
      exitCode: e.exitCode,
      classification,
    };
  }
  // Not one of ours: an AWS or system error that reached the top; classify it for the user (once).
  const c = known ?? direct ?? classifyError(err, context);
  return { message: `${c.title}: ${c.detail}`, hint: c.next, exitCode: c.exitCode, classification: c };
}
