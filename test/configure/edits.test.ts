// Edits of ~/.aws/config by `configure`: every corpus config round-trips through an edit with only the
// intended change in the AWS SDK's own loader; bytes outside the edited section never move; unparsable files
// are refused with the line; writes keep a backup, the mode and symlinks.
import { loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseIni, serialize } from '../../src/aws/index.js';
import {
  backupPath,
  ConfigNotEditableError,
  planEdit,
  readAwsConfigForEdit,
  upsertProfile,
  upsertSession,
  writeAwsConfig,
} from '../../src/configure/index.js';

const corpus = fileURLToPath(new URL('../fixtures/aws/corpus/', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'stormtunnel-configure-edits-'));

async function sdkConfig(text: string): Promise<Record<string, Record<string, string>>> {
  const file = join(work, `sdk-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, text);
  try {
    const files = await loadSharedConfigFiles({
      configFilepath: file,
      filepath: join(work, 'no-credentials'),
      ignoreCache: true,
    });
    return JSON.parse(JSON.stringify(files.configFile)) as Record<string, Record<string, string>>;
  } finally {
    rmSync(file, { force: true });
  }
}

const SESSION = {
  name: 'zz-new',
  startUrl: 'https://zz.awsapps.com/start',
  region: 'eu-west-1',
  scopes: ['sso:account:access'],
};
const PROFILE = {
  name: 'zz-profile',
  ssoSession: 'zz-new',
  accountId: '111111111111',
  roleName: 'ReadOnly',
  region: 'eu-west-1',
};

const corpusSuite = suite('corpus round trips');

corpusSuite(
  'every corpus config: add a session and a profile, the SDK sees exactly that and nothing else',
  async () => {
    let edited = 0;
    let refused = 0;
    for (const c of readdirSync(corpus).sort()) {
      const file = join(corpus, c, 'config');
      if (!existsSync(file)) continue;
      const text = readFileSync(file, 'utf8');
      const doc = parseIni(text, file);
      if (doc.diagnostics.some((d) => d.severity === 'error')) {
        // A file we cannot read exactly is refused with its line, not rewritten.
        const line = doc.diagnostics.find((d) => d.severity === 'error')?.line;
        try {
          await readAwsConfigForEdit(file);
          assert.unreachable(`${c}: should be refused`);
        } catch (err) {
          assert.instance(err, ConfigNotEditableError, c);
          assert.is((err as ConfigNotEditableError).exitCode, 2);
          if (line !== undefined) assert.match((err as Error).message, new RegExp(`line ${line}:`), c);
          assert.match((err as Error).message, /the file was not changed/, c);
        }
        refused++;
        continue;
      }
      const s = upsertSession(doc, SESSION);
      const p = upsertProfile(s.doc, PROFILE);
      assert.is(s.change, 'added', c);
      assert.is(p.change, 'added', c);
      const after = serialize(p.doc);
      // Appending never touches a byte of the original (a missing final newline is added).
      assert.ok(
        after.startsWith(text) || after.startsWith(`${text}\n`) || after.startsWith(`${text}\r\n`),
        c,
      );
      const before = await sdkConfig(text);
      // [__proto__] makes the SDK throw and read nothing (the AWS CLI reads it fine): no oracle for this file.
      if (/^\s*\[(profile )?__proto__\]/m.test(text)) continue;
      const expected = {
        ...before,
        'sso-session.zz-new': {
          sso_start_url: SESSION.startUrl,
          sso_region: 'eu-west-1',
          sso_registration_scopes: 'sso:account:access',
        },
        'zz-profile': {
          sso_session: 'zz-new',
          sso_account_id: '111111111111',
          sso_role_name: 'ReadOnly',
          region: 'eu-west-1',
        },
      };
      assert.equal(await sdkConfig(after), expected, c);
      edited++;
    }
    assert.ok(edited >= 30, `edited ${edited} corpus configs`);
    assert.ok(refused >= 3, `refused ${refused} malformed configs`);
  },
);

corpusSuite(
  'in-place edit of a profile with comments and odd spacing: one line changes, one is added',
  async () => {
    const text = [
      '# my AWS config; do not lose this',
      '[default]',
      'region=us-east-1',
      '',
      ';legacy comment',
      '[profile  app]   # two spaces in the header',
      '  sso_session =work',
      'sso_account_id   =   222222222222   ',
      '\tsso_role_name\t=\tDeveloper',
      'x_unknown_key = keep me',
      '# trailing comment of app',
      '',
      '[sso-session work]',
      'sso_start_url = https://x.awsapps.com/start',
      'sso_region = us-east-1',
      '',
      '[profile other]',
      'region = eu-west-2',
      '',
    ].join('\n');
    const doc = parseIni(text, 'config');
    // "[profile  app]" is ignored by the SDK (two spaces): we add [profile app] rather than edit it.
    const p = upsertProfile(doc, {
      name: 'other',
      ssoSession: 'work',
      accountId: '222222222222',
      roleName: 'Developer',
      region: 'eu-central-1',
    });
    assert.is(p.change, 'updated');
    const a = text.split('\n');
    const b = serialize(p.doc).split('\n');
    // Lines before [profile other]'s region line are identical; region changed in place; new keys after it.
    const at = a.indexOf('region = eu-west-2');
    assert.equal(b.slice(0, at), a.slice(0, at));
    assert.is(b[at], 'region = eu-central-1');
    assert.equal(b.slice(at + 1, at + 4), [
      'sso_session = work',
      'sso_account_id = 222222222222',
      'sso_role_name = Developer',
    ]);
    assert.equal(b.slice(at + 4), a.slice(at + 1));
    const sdk = await sdkConfig(serialize(p.doc));
    assert.equal(sdk.other, {
      region: 'eu-central-1',
      sso_session: 'work',
      sso_account_id: '222222222222',
      sso_role_name: 'Developer',
    });
    assert.equal(sdk.default, { region: 'us-east-1' });
  },
);

corpusSuite('setting a key keeps the spacing of its line and its neighbours', () => {
  const text =
    '[profile p]\r\nsso_session = s\r\nsso_account_id=111111111111 \r\nsso_role_name   =   Old\r\n# note\r\nregion = us-east-1\r\n';
  const p = upsertProfile(parseIni(text, 'config'), {
    name: 'p',
    ssoSession: 's',
    accountId: '111111111111',
    roleName: 'New',
    region: 'us-east-1',
  });
  assert.is(serialize(p.doc), text.replace('=   Old', '=   New'));
  const same = upsertProfile(p.doc, {
    name: 'p',
    ssoSession: 's',
    accountId: '111111111111',
    roleName: 'New',
    region: 'us-east-1',
  });
  assert.is(same.change, 'unchanged');
});

corpusSuite(
  'the default profile is written as [default], or into [profile default] when that is what the SDK reads',
  () => {
    const plain = upsertProfile(parseIni('', 'config'), { ...PROFILE, name: 'default' });
    assert.match(serialize(plain.doc), /^\[default\]\n/);
    const both = parseIni('[default]\nregion = a-b-1\n\n[profile default]\nregion = us-east-1\n', 'config');
    const out = serialize(upsertProfile(both, { ...PROFILE, name: 'default' }).doc);
    assert.ok(
      out.startsWith('[default]\nregion = a-b-1\n\n[profile default]\nregion = eu-west-1\nsso_session'),
    );
  },
);

const files = suite('writing the file');

files(
  'write: backup of the old file, same mode, symlink kept and its target edited; concurrent change refused',
  async () => {
    const dir = mkdtempSync(join(work, 'home-'));
    const real = join(dir, 'dotfiles-config');
    const link = join(dir, 'config');
    writeFileSync(real, '# mine\n[default]\nregion = us-east-1\n', { mode: 0o640 });
    symlinkSync(real, link);
    const current = await readAwsConfigForEdit(link);
    const plan = planEdit(current, serialize(upsertSession(current.doc, SESSION).doc));
    const result = await writeAwsConfig(plan);
    assert.ok(lstatSync(link).isSymbolicLink(), 'the link stays a link');
    assert.is(readlinkSync(link), real);
    assert.is(result.backup, backupPath(real));
    assert.is(readFileSync(backupPath(real), 'utf8'), '# mine\n[default]\nregion = us-east-1\n');
    assert.ok(
      readFileSync(real, 'utf8').startsWith(
        '# mine\n[default]\nregion = us-east-1\n\n[sso-session zz-new]\n',
      ),
    );
    assert.is(statSync(real).mode & 0o777, 0o640);
    assert.equal(readdirSync(dir).sort(), ['config', 'dotfiles-config', 'dotfiles-config.stormtunnel.bak']);

    // Someone else edits the file between our read and our write: nothing is written.
    const again = await readAwsConfigForEdit(link);
    const plan2 = planEdit(again, serialize(upsertProfile(again.doc, PROFILE).doc));
    writeFileSync(real, `${again.text}# edited meanwhile\n`);
    try {
      await writeAwsConfig(plan2);
      assert.unreachable();
    } catch (err) {
      assert.match((err as Error).message, /changed while stormtunnel was editing it; nothing was written/);
    }
    assert.ok(readFileSync(real, 'utf8').endsWith('# edited meanwhile\n'));
  },
);

files('a missing file is created with mode 0600 and no backup', async () => {
  const dir = mkdtempSync(join(work, 'empty-'));
  const file = join(dir, '.aws', 'config');
  const current = await readAwsConfigForEdit(file);
  assert.is(current.exists, false);
  const result = await writeAwsConfig(planEdit(current, serialize(upsertSession(current.doc, SESSION).doc)));
  assert.is(result.backup, undefined);
  assert.is(statSync(file).mode & 0o777, 0o600);
  assert.is(
    readFileSync(file, 'utf8'),
    `[sso-session zz-new]\nsso_start_url = ${SESSION.startUrl}\nsso_region = eu-west-1\nsso_registration_scopes = sso:account:access\n`,
  );
});

files('an unparsable file is refused with its line and left byte-identical', async () => {
  const dir = mkdtempSync(join(work, 'bad-'));
  const file = join(dir, 'config');
  const text = '[default]\nregion = us-east-1\n[profile broken\nsso_role_name = x\n';
  writeFileSync(file, text);
  try {
    await readAwsConfigForEdit(file);
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /config line 3: section header has no closing "\]"/);
  }
  assert.is(readFileSync(file, 'utf8'), text);
});

files.after(() => rmSync(work, { recursive: true, force: true }));
corpusSuite.run();
files.run();
