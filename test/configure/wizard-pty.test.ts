// The interactive wizard in a real pseudo-terminal (util-linux `script`) against the emulator: typed
// answers, the searchable list (filter, arrows, Enter), the numbered list of a dumb terminal, and the tunnel
// added to stormtunnel.config.ts.
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadConfig } from '../../src/config/load.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { commandExists, testIf } from '../helpers/system.js';
import { makeEmptyHome, runInPty, useEnv, type EmptyHome } from './helpers.js';

let emu: RunningEmulator;
let h: EmptyHome;
let restore: () => void;

const pty = suite('configure sso in a terminal');
pty.before(async () => {
  emu = await startEmulator({ port: 0, autoApprove: true });
  h = makeEmptyHome(emu.env());
  restore = useEnv(h.env);
});
pty.after(async () => {
  restore();
  await emu.close();
  h.cleanup();
});

const it = testIf(pty, commandExists('script'), 'util-linux script (pseudo-terminal) is not installed');

it('first run: typed answers, sign-in, then "prod dev" filters the list to one role', async () => {
  const p = runInPty(['configure', 'sso', '--use-device-code', '--no-browser'], {
    cwd: h.project,
    env: h.env,
  });
  try {
    await p.waitFor(/SSO session name: $/m);
    p.send('work\r');
    await p.waitFor(/SSO start URL: $/m);
    p.send('not a url\r');
    await p.waitFor(/✖ is not a URL/);
    await p.waitFor(/SSO start URL: $/m);
    p.send(`${emu.startUrl}\r`);
    await p.waitFor(/SSO region \[us-east-1\]: $/m);
    p.send('\r');
    await p.waitFor(/SSO registration scopes \[sso:account:access\]: $/m);
    p.send('\r');
    await p.waitFor(/confirm the code [A-Z]{4}-[A-Z]{4}/);
    await p.waitFor(/5 of 5/);
    p.send('prod dev');
    await p.waitFor(/1 of 5/);
    p.send('\r');
    await p.waitFor(/Account and role \(5 available\): production \(222222222222\) {2}Developer/);
    await p.waitFor(/Profile name \[production-Developer\]: $/m);
    p.send('\r');
    await p.waitFor(/Default region for the profile \[us-east-1\]: $/m);
    p.send('eu-west-1\r');
    await p.waitFor(/Add a tunnel .* \(y\/N\): $/m);
    p.send('\r');
    assert.is(await p.exited, 0, p.text());
  } finally {
    p.kill();
  }
  assert.is(
    readFileSync(h.configFile, 'utf8'),
    `[sso-session work]\nsso_start_url = ${emu.startUrl}\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n\n` +
      '[profile production-Developer]\nsso_session = work\nsso_account_id = 222222222222\nsso_role_name = Developer\nregion = eu-west-1\n',
  );
});

it('second run: the existing session from the list, a role by arrow keys, and a tunnel added to the config', async () => {
  const p = runInPty(['configure', 'sso'], { cwd: h.project, env: h.env });
  try {
    await p.waitFor(/SSO session \(type to filter/);
    await p.waitFor(/❯ work \(existing\)/);
    p.send('\r');
    // Signed in already: no sign-in, straight to the list (sorted: production first).
    await p.waitFor(/5 of 5/);
    p.send('\x1b[B\x1b[B\x1b[B');
    await p.waitFor(/❯ sandbox \(111111111111\) {2}AdministratorAccess/);
    p.send('\r');
    await p.waitFor(/Profile name \[sandbox-AdministratorAccess\]: $/m);
    p.send('admin\r');
    await p.waitFor(/Default region for the profile \[us-east-1\]: $/m);
    p.send('\r');
    await p.waitFor(/Add a tunnel .* \(y\/N\): $/m);
    p.send('y\r');
    // The picker of `stormtunnel add`: the nodes online for the new profile, by Name, filtered by typing.
    await p.waitFor(/Target \(type to filter/);
    await p.waitFor(/3 of 3/);
    p.send('bastion');
    await p.waitFor(/1 of 3/);
    p.send('\r');
    await p.waitFor(/Port on the target: $/m);
    p.send('5432\r');
    await p.waitFor(/Local port \(0 picks a free one\) \[5432\]: $/m);
    p.send('15432\r');
    await p.waitFor(/Tunnel name \[admin\]: $/m);
    p.send('db\r');
    assert.is(await p.exited, 0, p.text());
    assert.match(p.text(), /Added tunnel "db" to .*stormtunnel\.config\.ts/);
  } finally {
    p.kill();
  }
  assert.is(
    emu.requests().filter((r) => r.operation === 'StartDeviceAuthorization').length,
    1,
    'one sign-in',
  );
  assert.match(
    readFileSync(h.configFile, 'utf8'),
    /\n\[profile admin\]\nsso_session = work\nsso_account_id = 111111111111\nsso_role_name = AdministratorAccess\nregion = us-east-1\n$/,
  );
  const config = await loadConfig({ file: h.stormtunnelConfig, cwd: h.project });
  assert.equal(
    config.tunnels.map((t) => [t.name, t.profile, t.region, t.target, t.remotePort, t.localPort]),
    [['db', 'admin', 'us-east-1', 'bastion', 5432, 15432]],
  );
  assert.match(
    readFileSync(h.stormtunnelConfig, 'utf8'),
    /\/\/ tunnels started by `stormtunnel up`\n {2}tunnels: \[\n {4}\{\n {6}name: 'db',/,
  );
});

it('a dumb terminal gets numbered choices', async () => {
  const p = runInPty(
    ['configure', 'sso', '--sso-session', 'work', '--no-add-tunnel', '--profile-name', 'ro'],
    {
      cwd: h.project,
      env: { ...h.env, TERM: 'dumb' },
    },
  );
  try {
    await p.waitFor(/Account and role \(5 available\):\n/);
    await p.waitFor(/Number, or words to filter: $/m);
    p.send('sandbox\r');
    await p.waitFor(
      /1\. sandbox \(111111111111\) {2}AdministratorAccess\n\s+2\. sandbox \(111111111111\) {2}ReadOnly\n/,
    );
    p.send('2\r');
    await p.waitFor(/Default region for the profile \[us-east-1\]: $/m);
    p.send('\r');
    assert.is(await p.exited, 0, p.text());
  } finally {
    p.kill();
  }
  assert.match(
    readFileSync(h.configFile, 'utf8'),
    /\[profile ro\]\nsso_session = work\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\n/,
  );
});

pty.run();
