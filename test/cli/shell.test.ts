import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

const empty = mkdtempSync(join(tmpdir(), 'stormtunnel-cli-'));
const env = {
  HOME: empty,
  AWS_CONFIG_FILE: join(empty, 'config'),
  AWS_SHARED_CREDENTIALS_FILE: join(empty, 'credentials'),
};

test.after(() => rmSync(empty, { recursive: true, force: true }));

test('--help lists every command and the global options', async () => {
  const r = await runCli(['--help'], { cwd: empty, env });
  assert.is(r.code, 0);
  for (const cmd of [
    'up',
    'status',
    'login',
    'logout',
    'profiles',
    'roles',
    'check',
    'credential-process',
    'plugins',
    'emulator',
    'demo',
    'configure',
  ]) {
    assert.match(r.stdout, new RegExp(`\\n  ${cmd}\\b`), `help lists ${cmd}`);
  }
  for (const opt of ['--config', '--profile', '--region', '--verbose', '--log-format'])
    assert.match(r.stdout, opt);
});

test('plugins --json lists the loaded plugins with the hooks each taps', async () => {
  writeFileSync(
    join(empty, 'stormtunnel.config.mjs'),
    `export default { plugins: [{ name: 'team', apply(api) { api.hooks.beforeConnect.tap(() => undefined); api.hooks.onError.tap(() => undefined); } }] };`,
  );
  const r = await runCli(['plugins', '--json'], { cwd: empty, env });
  assert.is(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as {
    config: string;
    plugins: { name: string; hooks: { name: string; kind: string }[] }[];
  };
  assert.is(out.config, 'stormtunnel.config.mjs');
  assert.equal(out.plugins, [
    {
      name: 'team',
      hooks: [
        { name: 'beforeConnect', kind: 'series-bail' },
        { name: 'onError', kind: 'series-bail' },
      ],
      provides: [],
    },
  ]);
  rmSync(join(empty, 'stormtunnel.config.mjs'));
});

test('an unknown command or option is exit code 2 with a suggestion', async () => {
  const r = await runCli(['plugin'], { cwd: empty, env });
  assert.is(r.code, 2);
  assert.match(r.stderr, /unknown command 'plugin'/);
  assert.match(r.stderr, /Did you mean plugins\?/);
  const o = await runCli(['plugins', '--jsn'], { cwd: empty, env });
  assert.is(o.code, 2);
  assert.match(o.stderr, /unknown option '--jsn'/);
});

test('a bad STORMTUNNEL_LOG_LEVEL is a one-line usage error', async () => {
  const r = await runCli(['plugins'], { cwd: empty, env: { ...env, STORMTUNNEL_LOG_LEVEL: 'loud' } });
  assert.is(r.code, 2);
  assert.is(
    r.stderr,
    'stormtunnel: STORMTUNNEL_LOG_LEVEL: unknown level "loud"; use one of trace, debug, info, warn, error, fatal, silent\n',
  );
});

test('--version prints the version of package.json', async () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const r = await runCli(['--version'], { cwd: empty, env });
  assert.is(r.code, 0);
  assert.is(r.stdout, `${pkg.version}\n`);
});

test.run();
