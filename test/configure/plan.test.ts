// Pure parts of `configure`: populate planning, profile names, the diff, the tunnel insertion scanner and
// the picker's filter.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseIni, serialize } from '../../src/aws/index.js';
import {
  checkTemplate,
  filterChoices,
  insertTunnel,
  planPopulate,
  profileNameFor,
  unifiedDiff,
} from '../../src/configure/index.js';
import type { AccountRole, TunnelSpec } from '../../src/configure/index.js';

const pairs: AccountRole[] = [
  { accountId: '111111111111', accountName: 'sandbox', roleName: 'AdministratorAccess' },
  { accountId: '111111111111', accountName: 'sandbox', roleName: 'ReadOnly' },
  { accountId: '222222222222', accountName: 'production', roleName: 'Developer' },
  { accountId: '333333333333', accountName: 'production', roleName: 'Developer' },
  { accountId: '444444444444', accountName: 'My Team (dev)', roleName: 'Power User' },
];

const populate = suite('populate plan');

populate('adds one profile per pair, leaves existing names and configured pairs alone', () => {
  const text = [
    '[sso-session work]',
    'sso_start_url = https://x.awsapps.com/start',
    'sso_region = us-east-1',
    '',
    '# my own name for the sandbox admin role',
    '[profile admin]',
    'sso_session = work',
    'sso_account_id = 111111111111',
    'sso_role_name = AdministratorAccess',
    '',
    '[profile sandbox-ReadOnly]',
    'region = eu-west-1',
    '',
  ].join('\n');
  const doc = parseIni(text, 'config');
  const { doc: out, entries } = planPopulate(doc, pairs, {
    ssoSession: 'work',
    sessionRegion: 'us-east-1',
  });
  assert.equal(
    entries.map((e) => [e.profile, e.action]),
    [
      ['admin', 'already-configured'],
      ['sandbox-ReadOnly', 'exists'],
      ['production-Developer-222222222222', 'add'],
      ['production-Developer-333333333333', 'add'],
      ['My-Team-dev-Power-User', 'add'],
    ],
  );
  const after = serialize(out);
  assert.ok(after.startsWith(text), 'existing text untouched');
  assert.match(
    after,
    /\[profile production-Developer-222222222222\]\nsso_session = work\nsso_account_id = 222222222222\nsso_role_name = Developer\nregion = us-east-1\n/,
  );
});

populate('prefix, template and --region', () => {
  const { entries, doc } = planPopulate(parseIni('', 'config'), pairs.slice(0, 1), {
    ssoSession: 'work',
    sessionRegion: 'us-east-1',
    prefix: 'acme.',
    template: '{account_id}.{role_name}',
    region: 'eu-central-1',
  });
  assert.is(entries[0]?.profile, 'acme.111111111111.AdministratorAccess');
  assert.match(serialize(doc), /region = eu-central-1/);
});

populate('templates: unknown fields and names without the role are refused', () => {
  assert.throws(() => checkTemplate('{account}-{role_name}'), /unknown field \{account\}/);
  assert.throws(() => checkTemplate('{account_name}'), /must include \{role_name\}/);
  checkTemplate('{account_name}-{role_name}');
  assert.is(profileNameFor(pairs[4]!), 'My-Team-dev-Power-User');
});

const diff = suite('diff');

diff('unified diff: hunks as diff -u makes them', () => {
  const a = 'a\nb\nc\nd\ne\nf\ng\nh\n';
  const b = 'a\nb\nC\nd\ne\nf\ng\nh\ni\n';
  // Changes 5 lines apart share one hunk (at most 2 x 3 context lines between them).
  assert.is(
    unifiedDiff(a, b, { from: 'x', to: 'y' }),
    '--- x\n+++ y\n@@ -1,8 +1,9 @@\n a\n b\n-c\n+C\n d\n e\n f\n g\n h\n+i\n',
  );
  const c = '1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n';
  const d = '1\nX\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n';
  assert.is(
    unifiedDiff(c, d, { from: 'x', to: 'y' }),
    '--- x\n+++ y\n@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n@@ -10,3 +10,4 @@\n 10\n 11\n 12\n+13\n',
  );
  assert.is(unifiedDiff(a, a, { from: 'x', to: 'y' }), '');
  assert.is(unifiedDiff('', 'x\n', { from: 'x', to: 'y' }), '--- x\n+++ y\n@@ -0,0 +1 @@\n+x\n');
});

const tunnels = suite('tunnel insertion');
const spec: TunnelSpec = {
  name: 'db',
  profile: 'dev',
  region: 'us-east-1',
  target: 'i-0123456789abcdef0',
  remotePort: 5432,
  localPort: 5432,
};
const literal = (indent: string) =>
  [
    `${indent}{`,
    `${indent}  name: 'db',`,
    `${indent}  profile: 'dev',`,
    `${indent}  region: 'us-east-1',`,
    `${indent}  target: 'i-0123456789abcdef0',`,
    `${indent}  remotePort: 5432,`,
    `${indent}  localPort: 5432,`,
    `${indent}},`,
  ].join('\n');

tunnels('into an empty array', () => {
  const r = insertTunnel(`export default defineConfig({\n  tunnels: [],\n});\n`, spec);
  assert.ok(r.ok);
  assert.is(r.text, `export default defineConfig({\n  tunnels: [\n${literal('    ')}\n  ],\n});\n`);
});

tunnels('after the last element, adding its missing comma; its comment stays on its line', () => {
  const src = [
    'export default {',
    '  // "tunnels: [" in a comment is not the array',
    "  note: 'tunnels: [ also not in a string',",
    '  tunnels: [',
    "    { name: 'web', target: 'i-0a1b2c3d4e5f60718', remotePort: 80, localPort: 0 } // the web one",
    '  ],',
    '};',
    '',
  ].join('\n');
  const r = insertTunnel(src, spec);
  assert.ok(r.ok);
  assert.is(
    r.text,
    [
      ...src.split('\n').slice(0, 4),
      "    { name: 'web', target: 'i-0a1b2c3d4e5f60718', remotePort: 80, localPort: 0 }, // the web one",
      literal('    '),
      ...src.split('\n').slice(5),
    ].join('\n'),
  );
});

tunnels('a single-line array and a trailing comma', () => {
  const r = insertTunnel(
    `export default { tunnels: [{ name: 'a', target: 'i-0123456789abcdef0', remotePort: 1, localPort: 1 },] };\n`,
    spec,
  );
  assert.ok(r.ok);
  assert.match(r.text, /localPort: 1 },\n {2}\{\n {4}name: 'db',/);
});

tunnels('refused when not a single literal array', () => {
  const cases: [string, RegExp][] = [
    ['export default { tunnels: myTunnels };', /not a literal array/],
    ['export default { plugins: [] };', /no `tunnels:` property/],
    ['const a = { tunnels: [] }; const b = { tunnels: [] };', /more than one/],
    ['export default { tunnels: [`${x}`] };', /cannot follow/],
  ];
  for (const [src, why] of cases) {
    const r = insertTunnel(src, spec);
    assert.not.ok(r.ok, src);
    if (!r.ok) assert.match(r.reason, why, src);
  }
});

const picker = suite('picker filter');

picker('every word of the query must appear, in any case', () => {
  const choices = pairs.map((p) => ({ label: `${p.accountName} ${p.roleName}`, value: p }));
  assert.is(filterChoices(choices, 'PROD dev').length, 2);
  assert.is(filterChoices(choices, 'sandbox read').length, 1);
  assert.is(filterChoices(choices, '').length, 5);
  assert.is(filterChoices(choices, 'nothing').length, 0);
});

populate.run();
diff.run();
tunnels.run();
picker.run();
