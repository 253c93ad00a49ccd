// `stormtunnel profiles` on files the AWS CLI reads differently or refuses: it lists what is there, names the
// problem with file and line, and exits 2 when a file has errors.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'stormtunnel-profiles-cli-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

function home(files: { config?: string; credentials?: string }): Record<string, string> {
  const h = join(root, `h${n++}`);
  mkdirSync(join(h, '.aws'), { recursive: true });
  if (files.config !== undefined) writeFileSync(join(h, '.aws', 'config'), files.config);
  if (files.credentials !== undefined) writeFileSync(join(h, '.aws', 'credentials'), files.credentials);
  return { HOME: h, AWS_PROFILE: '', AWS_CONFIG_FILE: '', AWS_SHARED_CREDENTIALS_FILE: '' };
}

const KEYS =
  'aws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n';

test('names the AWS CLI reads are listed: non-ASCII, quoted with a space, empty values, lone CR', async () => {
  const r = await runCli(['profiles'], {
    env: home({
      config: '[profile dév-ü]\rregion = eu-west-3\r[profile "a b"]\rregion = us-east-1\r',
      credentials: '[empty]\raws_access_key_id =\raws_secret_access_key =\r',
    }),
  });
  assert.match(r.stdout, /dév-ü/);
  assert.match(r.stdout, /a b/);
  assert.match(r.stdout, /empty/);
  assert.not.match(r.stdout, /no profiles/);
  assert.not.match(r.stdout, /has no closing/);
  // The empty key pair stops the profile: exit 2 with the key named.
  assert.match(r.stdout, /empty aws_access_key_id; set it or remove the line/);
  assert.is(r.code, 2, r.stdout + r.stderr);
});

test('a BOM: profiles still listed, the error says the AWS CLI cannot read the file, exit 2', async () => {
  const r = await runCli(['profiles'], { env: home({ config: '\ufeff[default]\nregion = us-east-1\n' }) });
  assert.match(r.stdout, /^default/m);
  assert.match(
    r.stdout,
    /~\/\.aws\/config line 1: the file starts with a byte order mark \(BOM\); the AWS CLI cannot read this file either/,
  );
  assert.not.match(r.stdout, /no profiles/);
  assert.is(r.code, 2);
});

test('only headers the AWS CLI ignores: never "no profiles in", the reason is printed', async () => {
  const r = await runCli(['profiles'], { env: home({ config: '[profile a b]\nregion = us-east-1\n' }) });
  assert.not.match(r.stdout, /no profiles in/);
  assert.match(r.stdout, /no profile the AWS CLI can read/);
  assert.match(r.stdout, /line 1: the AWS CLI ignores \[profile a b\]/);
});

test('a key id stitched with the other file’s secret is an error naming both files, exit 2', async () => {
  const r = await runCli(['profiles', '--json'], {
    env: home({
      config: `[profile a]\n${KEYS}region = us-east-1\n`,
      credentials: '[a]\naws_access_key_id = AKIAI44QH8DHBEXAMPLE\n',
    }),
  });
  assert.is(r.code, 2);
  const out = JSON.parse(r.stdout) as { profiles: { name: string; type: string; errors: string[] }[] };
  const a = out.profiles.find((p) => p.name === 'a');
  assert.is(a?.type, 'incomplete');
  assert.match(
    a?.errors.join('\n') ?? '',
    /~\/\.aws\/credentials line 2: .*aws_access_key_id in ~\/\.aws\/credentials line 2 has no aws_secret_access_key in the same file; the AWS CLI does not combine it with the aws_secret_access_key in ~\/\.aws\/config line 3/,
  );
  assert.not.match(r.stdout, /wJalrXUtnFEMI|AKIA/);
});

test('a 2 MB region is echoed shortened, with its length', async () => {
  const region = 'x'.repeat(2_000_000);
  const r = await runCli(['profiles'], { env: home({ config: `[default]\nregion = ${region}\n${KEYS}` }) });
  assert.ok(r.stdout.length < 10_000, `output is ${r.stdout.length} characters`);
  assert.match(r.stdout, /x…\s?\(2000000 characters\)/);
});

test.run();
