import { loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  appendSection,
  documentToSections,
  parseIni,
  removeKey,
  serialize,
  setKey,
} from '../../src/aws/index.js';
import type { IniDocument } from '../../src/aws/index.js';

const dir = mkdtempSync(join(tmpdir(), 'stormtunnel-ini-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** The SDK's own parse of a document's text (credentials-file view = raw parseIni). */
async function sdkParse(doc: IniDocument): Promise<Record<string, Record<string, string>>> {
  const file = join(dir, `f${n++}`);
  writeFileSync(file, serialize(doc));
  const sdk = await loadSharedConfigFiles({
    filepath: file,
    configFilepath: join(dir, 'none'),
    ignoreCache: true,
  });
  return sdk.credentialsFile as Record<string, Record<string, string>>;
}

const SAMPLE = [
  '# my config',
  '[default]',
  'region = us-east-1   ; where I live',
  'output=json',
  '',
  '[profile dev]',
  'region =  eu-west-1',
  's3 =',
  '  max_concurrent_requests = 20',
  '# trailing comment of dev',
  '',
  '[profile prod]',
  'region = us-west-2',
  '',
].join('\n');

test('line numbers and entries', () => {
  const doc = parseIni(SAMPLE, 'config');
  assert.is(doc.lines.length, 13);
  const dev = doc.sections.find((s) => s.header.sdkKey === 'profile.dev');
  assert.ok(dev);
  assert.is(dev.header.lineNo, 6);
  assert.equal(
    dev.entries.map((e) => [e.lineNo, e.fullKey, e.value]),
    [
      [7, 'region', 'eu-west-1'],
      [9, 's3.max_concurrent_requests', '20'],
    ],
  );
  assert.is(dev.startIndex, 5);
  assert.is(dev.endIndex, 11);
});

test('setKey replaces in place, keeping spacing and the inline comment; other lines byte-identical', async () => {
  const doc = parseIni(SAMPLE, 'config');
  const edited = setKey(doc, 'default', 'region', 'ap-south-1');
  const out = serialize(edited);
  assert.is(
    out,
    SAMPLE.replace('region = us-east-1   ; where I live', 'region = ap-south-1   ; where I live'),
  );
  assert.is((await sdkParse(edited)).default?.region, 'ap-south-1');
  const out2 = serialize(setKey(doc, 'profile dev', 'region', 'eu-north-1'));
  assert.is(out2, SAMPLE.replace('region =  eu-west-1', 'region =  eu-north-1'));
});

test('setKey adds a missing key after the last setting, before trailing comments', async () => {
  const doc = parseIni(SAMPLE, 'config');
  const edited = setKey(doc, 'profile dev', 'sso_session', 'corp');
  const lines = serialize(edited).split('\n');
  assert.is(lines[9], 'sso_session = corp');
  assert.is(lines[10], '# trailing comment of dev');
  // A non-indented key ends the s3 sub-section for the SDK.
  const sdk = await sdkParse(edited);
  assert.equal(sdk['profile.dev'], {
    region: 'eu-west-1',
    's3.max_concurrent_requests': '20',
    sso_session: 'corp',
  });
  assert.equal(documentToSections(edited), sdk);
  // Outside the edited section nothing changed.
  const before = SAMPLE.split('\n');
  assert.equal(lines.slice(0, 9), before.slice(0, 9));
  assert.equal(lines.slice(10), before.slice(9));
});

test('setKey edits the definition that wins when a section is repeated', async () => {
  const text = '[profile a]\nregion = one\n[profile b]\nk = v\n[profile a]\nregion = two\n';
  const edited = setKey(parseIni(text, 'c'), 'profile a', 'region', 'three');
  assert.is(serialize(edited), text.replace('region = two', 'region = three'));
  assert.is((await sdkParse(edited))['profile.a']?.region, 'three');
});

test('setKey keeps CRLF and handles a last line without newline', () => {
  const crlf = '[default]\r\nregion = a\r\n';
  assert.is(
    serialize(setKey(parseIni(crlf, 'c'), 'default', 'output', 'json')),
    '[default]\r\nregion = a\r\noutput = json\r\n',
  );
  const nonl = '[default]\nregion = a';
  assert.is(
    serialize(setKey(parseIni(nonl, 'c'), 'default', 'output', 'json')),
    '[default]\nregion = a\noutput = json',
  );
});

test('setKey matches sections by the SDK name (quoted header, [profile.x])', () => {
  const text = '[profile "q"]\nregion = a\n';
  assert.is(
    serialize(setKey(parseIni(text, 'c'), 'profile q', 'region', 'b')),
    '[profile "q"]\nregion = b\n',
  );
});

test('setKey refuses values that the SDK would read differently', () => {
  const doc = parseIni(SAMPLE, 'config');
  assert.throws(() => setKey(doc, 'default', 'region', ''), /cannot be written/);
  assert.throws(() => setKey(doc, 'default', 'region', 'a #b'), /cannot be written/);
  assert.throws(() => setKey(doc, 'default', 'region', 'a\nb'), /cannot be written/);
  assert.throws(() => setKey(doc, 'default', 'a=b', 'x'), /cannot be written/);
  assert.throws(() => setKey(doc, 'profile nope', 'region', 'x'), /appendSection/);
});

test('appendSection separates with a blank line and ends with a newline', async () => {
  const doc = parseIni('[default]\nregion = a', 'c');
  const edited = appendSection(doc, 'sso-session corp', {
    sso_start_url: 'https://corp.awsapps.com/start',
    sso_region: 'us-east-1',
  });
  assert.is(
    serialize(edited),
    '[default]\nregion = a\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n',
  );
  assert.equal((await sdkParse(edited))['sso-session.corp'], {
    sso_start_url: 'https://corp.awsapps.com/start',
    sso_region: 'us-east-1',
  });
  assert.throws(() => appendSection(edited, 'sso-session corp', {}), /already exists/);
  assert.is(
    serialize(appendSection(parseIni('', 'c'), 'default', [['region', 'x']])),
    '[default]\nregion = x\n',
  );
});

test('removeKey drops every top-level definition and nothing else', () => {
  const text = '[profile a]\nregion = 1\noutput = j\n[profile a]\nregion = 2\n';
  assert.is(
    serialize(removeKey(parseIni(text, 'c'), 'profile a', 'region')),
    '[profile a]\noutput = j\n[profile a]\n',
  );
});

test('diagnostics carry line numbers and never the value', () => {
  const doc = parseIni('aws_secret_access_key = hunter2\n[default]\ngarbage hunter3\n[profile x\n', 'c');
  const lines = doc.diagnostics.map((d) => [d.severity, d.line]);
  assert.equal(lines, [
    ['error', 1],
    ['error', 3],
    ['error', 4],
  ]);
  for (const d of doc.diagnostics) assert.not.match(d.message, /hunter/);
});

test('unedited documents with odd bytes serialize identically', () => {
  for (const text of [
    '',
    '\n',
    '\r\n\r\n',
    'a\rb\n',
    '\ufeff[default]\r\nx=1',
    '[a]\n\n\n',
    '  \t\n[x]\ny = z \t',
  ]) {
    assert.is(serialize(parseIni(text, 'c')), text);
  }
});

test.run();
