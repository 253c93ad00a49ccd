import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../src/log/logger.js';
import { redact, redactString } from '../../src/log/redact.js';

const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const TOKEN = 'aoaAAAAAGVsZXdpbGxpYW1zMTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6';

test('secret fields are redacted at any depth, whatever their case', () => {
  const out = redact({
    accessToken: TOKEN,
    nested: {
      RefreshToken: 'r',
      clientSecret: 'c',
      creds: [{ secretAccessKey: SECRET_KEY, SessionToken: 's' }],
    },
    TokenValue: 'stream',
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    profile: 'dev',
  });
  assert.equal(out, {
    accessToken: '[redacted]',
    nested: {
      RefreshToken: '[redacted]',
      clientSecret: '[redacted]',
      creds: [{ secretAccessKey: '[redacted]', SessionToken: '[redacted]' }],
    },
    TokenValue: '[redacted]',
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    profile: 'dev',
  });
});

test('values that look like secrets are redacted inside strings; ids, hashes and paths are kept', () => {
  assert.is(redactString(`token ${TOKEN} expired`), 'token [redacted] expired');
  assert.is(redactString(`key=${SECRET_KEY}`), 'key=[redacted]');
  const cachePath = '/home/u/.aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json';
  assert.is(redactString(cachePath), cachePath);
  assert.is(
    redactString('arn:aws:iam::123456789012:role/CrossAccountRole'),
    'arn:aws:iam::123456789012:role/CrossAccountRole',
  );
  assert.is(redactString('i-0123456789abcdef0'), 'i-0123456789abcdef0');
  const ssoRole =
    'arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_AdministratorAccess_65bf90de591b73a7/dev';
  assert.is(redactString(ssoRole), ssoRole);
});

test('errors keep type and message, with secrets scrubbed', () => {
  const e = redact(new Error(`bad token ${TOKEN}`)) as { type: string; message: string };
  assert.is(e.type, 'Error');
  assert.is(e.message, 'bad token [redacted]');
});

test('the logger never writes a secret, in JSON or pretty format', () => {
  for (const format of ['json', 'pretty'] as const) {
    const sink = new PassThrough();
    let written = '';
    sink.on('data', (d: Buffer) => (written += d.toString()));
    const logger = createLogger({ format, destination: sink, level: 'debug' });
    logger
      .child({ plugin: 'sso' })
      .info(`refreshed with ${TOKEN}`, { refreshToken: 'rt-secret-value', session: 'work' });
    logger.error('failed', { err: new Error(`secret ${SECRET_KEY}`) });
    assert.not.match(written, TOKEN);
    assert.not.match(written, 'rt-secret-value');
    assert.not.match(written, SECRET_KEY);
    assert.match(written, 'work');
    assert.match(written, 'sso');
  }
});

test.run();
