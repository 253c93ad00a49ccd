import { AccessDeniedException, TargetNotConnected } from '@aws-sdk/client-ssm';
import { TooManyRequestsException, UnauthorizedException } from '@aws-sdk/client-sso';
import { ExpiredTokenException } from '@aws-sdk/client-sts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { classifyError, EXIT_CODES, reportOf } from '../../src/engine/classify.js';
import { ConfigError, ConnectionVetoedError, PluginError } from '../../src/engine/errors.js';

const DENIED_MESSAGE =
  'User: arn:aws:sts::1:assumed-role/Dev/me is not authorized to perform: ssm:StartSession on resource: arn:aws:ec2:us-east-1:1:instance/i-1';
const meta = (status: number) => ({ $metadata: { httpStatusCode: status, requestId: 'req-123' } });

test('each error class maps to the product message and its own exit code', () => {
  const rows: [unknown, string, string][] = [
    [
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      'network',
      'Check Network Connection',
    ],
    [new TooManyRequestsException({ message: 'slow down', ...meta(429) }), 'throttled', 'Rate Limited'],
    [
      new UnauthorizedException({ message: 'Session token not found or invalid', ...meta(401) }),
      'token-expired',
      'SSO Authentication Required',
    ],
    [
      new ExpiredTokenException({ message: 'expired', ...meta(400) }),
      'token-expired',
      'SSO Authentication Required',
    ],
    [
      Object.assign(new Error('bad grant'), { name: 'InvalidGrantException' }),
      'token-expired',
      'SSO Authentication Required',
    ],
    [
      Object.assign(new Error('Invalid client'), { name: 'InvalidClientException' }),
      'sso-config',
      'SSO Configuration Invalid',
    ],
    [
      new AccessDeniedException({
        message: DENIED_MESSAGE,
        Message: DENIED_MESSAGE,
        ...meta(400),
      }),
      'permission-denied',
      'Contact AWS Administrator',
    ],
    [
      Object.assign(new Error('The security token included in the request is invalid.'), {
        name: 'InvalidClientTokenId',
      }),
      'credentials-invalid',
      'Update Credentials Required',
    ],
    [
      new TargetNotConnected({ message: 'i-1 is not connected.', ...meta(400) }),
      'target',
      'Target Unavailable',
    ],
    [
      Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:5432'), {
        code: 'EADDRINUSE',
      }),
      'usage',
      'Invalid Input',
    ],
    [new ConfigError('stormtunnel.config.ts', ['tunnels[0].target: bad']), 'usage', 'Invalid Input'],
    [new Error('something odd'), 'unknown', 'Unexpected Error'],
  ];
  const codes = new Set<number>();
  for (const [err, cls, title] of rows) {
    const c = classifyError(err, { operation: 'Op', profile: 'dev' });
    assert.is(c.class, cls, `${String(err)} -> ${cls}`);
    assert.is(c.title, title);
    assert.is(c.exitCode, EXIT_CODES[c.class]);
    assert.ok(c.next.length > 10, 'has a next step');
    assert.not.match(c.detail, /\n/);
    codes.add(c.exitCode);
  }
  assert.is(codes.size, 9, 'nine distinct classes, nine exit codes');
});

test('a veto that reaches a command exits with the vetoed class’s code, however it arrives', () => {
  const veto = new ConnectionVetoedError('db', 'change-freeze', 'no sessions today');
  assert.is(veto.exitCode, EXIT_CODES.vetoed);
  assert.is(classifyError(veto).class, 'vetoed');
  assert.is(reportOf(veto).exitCode, EXIT_CODES.vetoed);
  // In the words the recovery loop reports a veto with (up, forward, ssh-proxy).
  assert.is(
    reportOf(veto).message,
    'Connection Stopped by Plugin: tunnel "db" was stopped by plugin "change-freeze": no sessions today',
  );
  assert.is(reportOf(veto).hint, 'the plugin named above decided this; change its settings or the tunnel');
  assert.is(reportOf(new PluginError('x', 'beforeConnect', veto)).exitCode, EXIT_CODES.vetoed);
});

test('the denied action is named, from the message or the operation', () => {
  const fromMessage = classifyError(
    new AccessDeniedException({
      message: 'User: x is not authorized to perform: ssm:StartSession on resource: y',
      Message: 'User: x is not authorized to perform: ssm:StartSession on resource: y',
      ...meta(400),
    }),
    { profile: 'dev' },
  );
  assert.is(fromMessage.deniedAction, 'ssm:StartSession');
  assert.is(fromMessage.detail, 'ssm:StartSession was denied for profile "dev"');
  assert.is(fromMessage.next, 'ask your AWS administrator to allow ssm:StartSession for your role');
  const fromOp = classifyError(Object.assign(new Error('Access denied'), { name: 'AccessDenied' }), {
    action: 'sts:AssumeRole',
  });
  assert.is(fromOp.deniedAction, 'sts:AssumeRole');
});

test('Retry-After in seconds, as an HTTP date, and x-amz-retry-after are read from the response', () => {
  const mk = (headers: Record<string, string>) =>
    Object.assign(new TooManyRequestsException({ message: 'x', ...meta(429) }), {
      $response: { statusCode: 429, headers },
    });
  assert.is(classifyError(mk({ 'Retry-After': '7' })).retryAfterMs, 7000);
  assert.is(classifyError(mk({ 'x-amz-retry-after': '1500' })).retryAfterMs, 1500);
  const inTen = new Date(Date.now() + 10_000).toUTCString();
  const ms = classifyError(mk({ 'retry-after': inTen })).retryAfterMs!;
  assert.ok(ms > 8000 && ms <= 10_000, `date form: ${ms}`);
  assert.is(classifyError(mk({})).retryAfterMs, undefined);
});

test('wrapped errors are classified by their root cause; request ids are kept', () => {
  const inner = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
  const fetchLike = new TypeError('fetch failed', { cause: inner });
  assert.is(classifyError(new PluginError('sso', 'resolveCredentials', fetchLike)).class, 'network');
  const c = classifyError(new UnauthorizedException({ message: 'x', ...meta(401) }));
  assert.is(c.requestId, 'req-123');
  assert.is(c.httpStatus, 401);
});

test('5xx from AWS is transient (network class); 429 without a known name is throttling', () => {
  assert.is(
    classifyError(Object.assign(new Error('oops'), { name: 'InternalServerException', ...meta(500) })).class,
    'network',
  );
  assert.is(
    classifyError(Object.assign(new Error('oops'), { name: 'Weird', ...meta(503) })).class,
    'network',
  );
  assert.is(
    classifyError(Object.assign(new Error('oops'), { name: 'Weird', ...meta(429) })).class,
    'throttled',
  );
});

test.run();
