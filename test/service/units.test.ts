// `stormtunnel service install --dry-run`: the systemd user unit passes `systemd-analyze verify` (Debian's
// systemd package) and the launchd plist parses with a real plist parser (python3's plistlib); neither holds
// secrets from the environment, and nothing is written to HOME or run against the user's service manager.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { systemdUnit } from '../../src/service/units.js';
import { runCli } from '../helpers/cli.js';

const test = suite('service units');
let dir: string;
let home: string;
let project: string;
let env: NodeJS.ProcessEnv;
const SECRETS = {
  AWS_ACCESS_KEY_ID: 'AKIAUNITTESTSECRET01',
  AWS_SECRET_ACCESS_KEY: 'unit/test/SECRET/key/do-not-write',
  AWS_SESSION_TOKEN: 'unit-test-session-token-do-not-write',
};

test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'stormtunnel-units-'));
  home = join(dir, 'home');
  mkdirSync(home);
  // A folder name that needs systemd's quoting and escaping: a space and a specifier character.
  project = join(dir, 'my project %i');
  mkdirSync(project);
  writeFileSync(join(project, 'stormtunnel.config.ts'), 'export default { tunnels: [] };\n');
  env = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_STATE_HOME: join(home, 'state'),
    AWS_PROFILE: 'dev',
    // The per-user bus: notifications from the service reach the desktop through it.
    DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1000/bus',
    DISPLAY: ':0',
    ...SECRETS,
  };
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

function hasTool(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

test('systemd user unit: passes systemd-analyze verify, carries PATH and AWS_PROFILE, no secrets', async () => {
  const r = await runCli(['service', 'install', '--dry-run', '--platform', 'linux'], { cwd: project, env });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /would write .*home\/\.config\/systemd\/user\/stormtunnel-[0-9a-f]{12}\.service/);
  assert.match(r.stderr, /\$ systemctl --user enable --now stormtunnel-[0-9a-f]{12}\.service/);
  for (const s of Object.values(SECRETS)) assert.not.ok(r.stdout.includes(s) || r.stderr.includes(s), s);
  assert.match(r.stdout, /^Environment="AWS_PROFILE=dev"$/m);
  assert.match(r.stdout, /^Environment="PATH=/m);
  assert.match(r.stdout, /^Environment="DBUS_SESSION_BUS_ADDRESS=unix:path=\/run\/user\/1000\/bus"$/m);
  assert.not.match(r.stdout, /DISPLAY/, 'a display of this login is not written for every later one');
  assert.match(
    r.stdout,
    /^ExecStart="\/\S+node" ".*bin\/stormtunnel\.js" "--config" ".*my project %%i\/stormtunnel\.config\.ts" "up" "--service"$/m,
  );
  assert.match(r.stdout, /^Restart=on-failure$/m);
  assert.equal(readdirSync(home), [], 'nothing written to HOME');

  if (!hasTool('systemd-analyze')) {
    assert.not.ok(process.env.CI === 'true', 'systemd-analyze is missing (Debian package systemd)');
    console.warn('skipped: systemd-analyze not installed');
    return;
  }
  const unit = join(dir, 'stormtunnel-test.service');
  writeFileSync(unit, r.stdout);
  // System mode: `--user` needs a running user manager (not in CI); the file's checks are the same.
  const v = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
  assert.is(v.status, 0, v.stderr);
  assert.is(v.stderr.trim(), '', 'no warnings');

  // The check has teeth: a misspelt directive is reported.
  writeFileSync(unit, r.stdout.replace('ExecStart=', 'ExecStrat='));
  const bad = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
  assert.match(bad.stderr, /Unknown key 'ExecStrat'/);
});

test('systemd user unit: a session bus that changes at every login (dbus-launch) is not written into it', () => {
  const input = {
    key: '0123456789ab',
    config: join(project, 'stormtunnel.config.ts'),
    node: '/usr/bin/node',
    bin: '/opt/stormtunnel/bin/stormtunnel.js',
    logFile: join(home, 'state', 'service.log'),
  };
  const launched = systemdUnit({
    ...input,
    env: { ...env, DBUS_SESSION_BUS_ADDRESS: 'unix:abstract=/tmp/dbus-Xa1b2c3,guid=0f0e0d0c0b0a' },
  });
  assert.not.match(launched.text, /DBUS_SESSION_BUS_ADDRESS/);
  const userBus = systemdUnit({ ...input, env });
  assert.match(userBus.text, /^Environment="DBUS_SESSION_BUS_ADDRESS=unix:path=\/run\/user\/1000\/bus"$/m);
});

test('the unit’s PATH: the shell’s absolute folders, each once, in order (no ".", "" or relative entries)', () => {
  const unit = systemdUnit({
    key: '0123456789ab',
    node: '/usr/bin/node',
    bin: '/opt/stormtunnel/bin/stormtunnel.js',
    config: join(project, 'stormtunnel.config.ts'),
    logFile: join(home, 'state', 'service.log'),
    env: { PATH: '/home/me/.local/bin:/usr/bin:.:/home/me/.local/bin::node_modules/.bin:/bin:/usr/bin' },
  });
  assert.match(unit.text, /^Environment="PATH=\/home\/me\/\.local\/bin:\/usr\/bin:\/bin"$/m);
});

test('launchd agent: a well-formed plist (plistlib) with the keys launchd needs, no secrets', async () => {
  const r = await runCli(['service', 'install', '--dry-run', '--platform', 'darwin'], { cwd: project, env });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stderr, /would write .*home\/Library\/LaunchAgents\/dev\.stormtunnel\.[0-9a-f]{12}\.plist/);
  for (const s of Object.values(SECRETS)) assert.not.ok(r.stdout.includes(s), s);
  const py = spawnSync(
    '/usr/bin/python3',
    ['-c', 'import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'],
    { input: r.stdout, encoding: 'utf8' },
  );
  assert.is(py.status, 0, py.stderr);
  const plist = JSON.parse(py.stdout) as Record<string, unknown>;
  assert.match(plist.Label as string, /^dev\.stormtunnel\.[0-9a-f]{12}$/);
  const argv = plist.ProgramArguments as string[];
  assert.is(argv[0], process.execPath);
  assert.equal(argv.slice(2), ['--config', join(project, 'stormtunnel.config.ts'), 'up', '--service']);
  assert.is(plist.RunAtLoad, true);
  assert.equal(plist.KeepAlive, { SuccessfulExit: false });
  assert.is(plist.WorkingDirectory, project);
  const envVars = plist.EnvironmentVariables as Record<string, string>;
  assert.is(envVars.AWS_PROFILE, 'dev');
  assert.ok(envVars.PATH);
  assert.equal(
    Object.keys(envVars).filter((k) => k in SECRETS),
    [],
  );
  assert.is(plist.StandardOutPath, plist.StandardErrorPath);
  assert.equal(readdirSync(home), [], 'nothing written to HOME');
});

test('service on another platform without --dry-run is refused; uninstall --dry-run prints its commands', async () => {
  const other = process.platform === 'darwin' ? 'linux' : 'darwin';
  const r = await runCli(['service', 'install', '--platform', other], { cwd: project, env });
  assert.is(r.code, 2);
  assert.match(r.stderr, new RegExp(`--platform ${other}: only with --dry-run`));
  const u = await runCli(['service', 'uninstall', '--dry-run', '--platform', 'linux'], { cwd: project, env });
  assert.is(u.code, 0, u.stderr);
  assert.match(u.stdout, /^\$ systemctl --user disable --now stormtunnel-[0-9a-f]{12}\.service$/m);
  assert.equal(readdirSync(home), []);
});

test.run();
