import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  appendSection,
  documentRawSections,
  documentToSections,
  parseIni,
  removeKey,
  serialize,
  setKey,
} from '../../src/aws/index.js';
import type { IniDocument } from '../../src/aws/index.js';

/** The document re-read from its serialized text (so edits are judged by a fresh parse). */
function reparse(doc: IniDocument): Record<string, Record<string, string>> {
  return documentToSections(parseIni(serialize(doc), 'again'));
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
  const dev = doc.sections.find((s) => s.header.key === 'profile.dev');
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

test('setKey replaces the whole value (the AWS CLI reads "; where I live" as part of it); other lines byte-identical', () => {
  const doc = parseIni(SAMPLE, 'config');
  assert.is(documentToSections(doc)['profile.default']?.region, 'us-east-1   ; where I live');
  const edited = setKey(doc, 'default', 'region', 'ap-south-1');
  assert.is(serialize(edited), SAMPLE.replace('region = us-east-1   ; where I live', 'region = ap-south-1'));
  assert.is(reparse(edited)['profile.default']?.region, 'ap-south-1');
  const out2 = serialize(setKey(doc, 'profile dev', 'region', 'eu-north-1'));
  assert.is(out2, SAMPLE.replace('region =  eu-west-1', 'region =  eu-north-1'));
});

test('setKey replaces a value with continuation lines, lines and all', () => {
  const text = '[default]\nregion = a\n  b\n\n  c\noutput = json\n';
  const edited = setKey(parseIni(text, 'c'), 'default', 'region', 'x');
  assert.is(serialize(edited), '[default]\nregion = x\noutput = json\n');
});

test('setKey adds a missing key after the last setting, before trailing comments', () => {
  const doc = parseIni(SAMPLE, 'config');
  const edited = setKey(doc, 'profile dev', 'sso_session', 'corp');
  const lines = serialize(edited).split('\n');
  assert.is(lines[9], 'sso_session = corp');
  assert.is(lines[10], '# trailing comment of dev');
  // A non-indented key ends the s3 sub-section.
  assert.equal(reparse(edited)['profile.dev'], {
    region: 'eu-west-1',
    's3.max_concurrent_requests': '20',
    sso_session: 'corp',
  });
  // Outside the edited section nothing changed.
  const before = SAMPLE.split('\n');
  assert.equal(lines.slice(0, 9), before.slice(0, 9));
  assert.equal(lines.slice(10), before.slice(9));
});

test('setKey edits the definition that wins: [profile default] after [default]', () => {
  const text = '[default]\nregion = one\n[profile b]\nk = v\n[profile default]\nregion = two\n';
  const edited = setKey(parseIni(text, 'c'), 'default', 'region', 'three');
  assert.is(serialize(edited), text.replace('region = two', 'region = three'));
  assert.is(reparse(edited)['profile.default']?.region, 'three');
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

test('setKey matches sections by the name the AWS CLI reads (quoted header)', () => {
  const text = '[profile "q"]\nregion = a\n';
  assert.is(
    serialize(setKey(parseIni(text, 'c'), 'profile q', 'region', 'b')),
    '[profile "q"]\nregion = b\n',
  );
});

test('setKey refuses keys and values that the AWS CLI would read differently', () => {
  const doc = parseIni(SAMPLE, 'config');
  assert.throws(() => setKey(doc, 'default', 'region', ''), /cannot be written/);
  assert.throws(() => setKey(doc, 'default', 'region', 'a #b'), /cannot be written/);
  assert.throws(() => setKey(doc, 'default', 'region', 'a\nb'), /cannot be written/);
  assert.throws(() => setKey(doc, 'default', 'a=b', 'x'), /cannot be written/);
  assert.throws(() => setKey(doc, 'default', 'a:b', 'x'), /cannot be written/);
  assert.throws(() => setKey(doc, 'default', 'Region', 'x'), /cannot be written/);
  assert.throws(() => setKey(doc, 'profile nope', 'region', 'x'), /appendSection/);
});

test('appendSection separates with a blank line and ends with a newline', () => {
  const doc = parseIni('[default]\nregion = a', 'c');
  const edited = appendSection(doc, 'sso-session corp', {
    sso_start_url: 'https://corp.awsapps.com/start',
    sso_region: 'us-east-1',
  });
  assert.is(
    serialize(edited),
    '[default]\nregion = a\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n',
  );
  assert.equal(reparse(edited)['sso-session.corp'], {
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

test('names and values as the AWS CLI reads them', () => {
  const doc = parseIni(
    [
      '[profile dév-ü]',
      'aws_access_key_id =',
      'REGION: eu-west-3',
      '[profile "a b"]',
      'region = x ; kept',
      '[profiles p]',
      'k = v',
      '[profile a b]',
      'k = dropped',
      '[DEFAULT]',
      'output = json',
    ].join('\r'),
    'c',
  );
  assert.equal(
    doc.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  assert.equal(documentToSections(doc), {
    'profile.dév-ü': { aws_access_key_id: '', region: 'eu-west-3', output: 'json' },
    'profile.a b': { region: 'x ; kept', output: 'json' },
    'profile.p': { k: 'v', output: 'json' },
  });
  assert.equal(Object.keys(documentRawSections(doc)), [
    'profile dév-ü',
    'profile "a b"',
    'profiles p',
    'profile a b',
  ]);
});

test('what the AWS CLI refuses is an error that says so', () => {
  const cases: [string, number, RegExp][] = [
    ['\ufeff[default]\nregion = a\n', 1, /byte order mark/],
    ['[a]\nk = 1\n[a]\n', 3, /repeats the section at line 1/],
    ['[a]\nRegion = 1\nregion = 2\n', 3, /"region" is set again/],
    ['[a]\ns3 =\n  no equals\n', 3, /is not "key = value"/],
    ['[a]\n= v\n', 2, /without a name/],
  ];
  for (const [text, line, re] of cases) {
    const errors = parseIni(text, 'c').diagnostics.filter((d) => d.severity === 'error');
    assert.is(errors.length, 1, text);
    assert.is(errors[0]?.line, line, text);
    assert.match(errors[0]?.message ?? '', re, text);
    assert.match(errors[0]?.message ?? '', /the AWS CLI cannot read this file either/, text);
  }
  // A BOM is reported, and the profiles after it are still read.
  assert.equal(documentToSections(parseIni('\ufeff[default]\nregion = a\n', 'c')), {
    'profile.default': { region: 'a' },
  });
});

test('unedited documents with odd bytes serialize identically', () => {
  for (const text of [
    '',
    '\n',
    '\r\n\r\n',
    'a\rb\n',
    '[a]\rk = v\r\n\r',
    '\ufeff[default]\r\nx=1',
    '[a]\n\n\n',
    '  \t\n[x]\ny = z \t',
  ]) {
    assert.is(serialize(parseIni(text, 'c')), text);
  }
});

test.run();
