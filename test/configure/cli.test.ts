// `stormtunnel configure` as a user runs it, without a terminal, against the emulator: flags for every
// answer, errors that name the flags, refusal of unparsable configs, populate with --dry-run, and the
// written profiles used unchanged by the AWS SDK (and the AWS CLI when installed).
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadSharedConfigFiles } from '@smithy/shared-ini-file-loader';
import { fromSSO } from '@aws-sdk/credential-providers';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { BIN, runCli, CLI_ENV } from '../helpers/cli.js';
import { commandExists, testIf } from '../helpers/system.js';
import { makeEmptyHome, stripAnsi, useEnv, type EmptyHome } from './helpers.js';

interface Ctx {
  emu: RunningEmulator;
  h: EmptyHome;
  restore: () => void;
}
let ctx: Ctx;

const cli = suite('configure without a terminal');
cli.before.each(async () => {
  const emu = await startEmulator({ port: 0, autoApprove: true });
  const h = makeEmptyHome(emu.env());
  ctx = { emu, h, restore: useEnv(h.env) };
});
cli.after.each(async () => {
  ctx.restore();
  await ctx.emu.close();
  ctx.h.cleanup();
});

const run = (args: string[]) => runCli(args, { cwd: ctx.h.project, env: ctx.h.env, timeoutMs: 45_000 });

const wizardFlags = () => [
  'configure',
  'sso',
  '--sso-session',
  'work',
  '--start-url',
  ctx.emu.startUrl,
  '--sso-region',
  'us-east-1',
  '--account-id',
  '111111111111',
  '--role-name',
  'AdministratorAccess',
  '--use-device-code',
  '--no-browser',
];

async function callerIdentity(profile: string) {
  const credentials = await fromSSO({ profile })();
  return new STSClient({ region: 'us-east-1', credentials }).send(new GetCallerIdentityCommand({}));
}

cli(
  'from an empty HOME: every answer as a flag writes what `aws configure sso` writes; the SDK uses it',
  async () => {
    assert.not.ok(existsSync(ctx.h.configFile));
    const r = await run([...wizardFlags(), '--region', 'eu-west-1', '--no-add-tunnel']);
    assert.is(r.code, 0, r.stderr);
    assert.is(
      readFileSync(ctx.h.configFile, 'utf8'),
      `[sso-session work]\nsso_start_url = ${ctx.emu.startUrl}\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n\n` +
        '[profile sandbox-AdministratorAccess]\nsso_session = work\nsso_account_id = 111111111111\nsso_role_name = AdministratorAccess\nregion = eu-west-1\n',
    );
    assert.match(r.stdout, /Profile "sandbox-AdministratorAccess" uses AdministratorAccess in 111111111111/);
    assert.match(r.stderr, /confirm the code [A-Z]{4}-[A-Z]{4}/, 'signed in with the device code');
    const who = await callerIdentity('sandbox-AdministratorAccess');
    assert.is(who.Account, '111111111111');
    assert.match(who.Arn ?? '', /AWSReservedSSO_AdministratorAccess/);

    // Again with the same answers: the token is reused (no second sign-in), nothing changes.
    const again = await run([...wizardFlags(), '--region', 'eu-west-1', '--no-add-tunnel']);
    assert.is(again.code, 0, again.stderr);
    assert.match(again.stderr, /already has these settings/);
    assert.is(ctx.emu.requests().filter((x) => x.operation === 'StartDeviceAuthorization').length, 1);
  },
);

testIf(
  cli,
  commandExists('aws'),
  'the AWS CLI (aws) is not installed',
)('the AWS CLI uses the written profile and the shared sign-in unchanged', async () => {
  const r = await run([...wizardFlags(), '--no-add-tunnel']);
  assert.is(r.code, 0, r.stderr);
  // Asynchronously: the emulator answers from this very process.
  const aws = await promisify(execFile)(
    'aws',
    ['sts', 'get-caller-identity', '--profile', 'sandbox-AdministratorAccess', '--output', 'json'],
    { env: { ...process.env, ...ctx.h.env }, encoding: 'utf8', timeout: 30_000 },
  );
  assert.is((JSON.parse(aws.stdout) as { Account: string }).Account, '111111111111');
});

cli(
  'done when: configure sso from an empty HOME, then `stormtunnel up` carries bytes through the tunnel',
  async () => {
    // What the instance forwards to: an echo server on 127.0.0.1 (the emulator's agent dials localAddress).
    const echo = createServer((c) => c.pipe(c));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    const remotePort = (echo.address() as AddressInfo).port;
    const local = createServer().listen(0, '127.0.0.1');
    await once(local, 'listening');
    const localPort = (local.address() as AddressInfo).port;
    await new Promise((resolve) => local.close(resolve));
    try {
      const r = await run([
        ...wizardFlags(),
        '--add-tunnel',
        '--target',
        'i-0123456789abcdef0',
        '--remote-port',
        String(remotePort),
        '--local-port',
        String(localPort),
        '--tunnel-name',
        'db',
      ]);
      assert.is(r.code, 0, r.stderr);
      assert.match(r.stderr, /Added tunnel "db" to .*stormtunnel\.config\.ts/);
      const up = spawn(process.execPath, [BIN, 'up'], {
        cwd: ctx.h.project,
        env: { ...process.env, ...ctx.h.env, NO_COLOR: '1', ...CLI_ENV },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const ready = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`up did not get ready:\n${out}`)), 30_000);
        const onData = (d: Buffer) => {
          out += d.toString();
          if (/tunnel db: ready/.test(stripAnsi(out))) {
            clearTimeout(timer);
            resolve();
          }
        };
        up.stdout.on('data', onData);
        up.stderr.on('data', onData);
      });
      const exited = once(up, 'close');
      try {
        await ready;
        // Port forwarding has no half-close: write, read the echo, then close.
        const socket = connect(localPort, '127.0.0.1');
        socket.write('hello through the tunnel');
        let echoed = '';
        for await (const chunk of socket) {
          echoed += (chunk as Buffer).toString();
          if (echoed.length >= 'hello through the tunnel'.length) break;
        }
        socket.destroy();
        assert.is(echoed, 'hello through the tunnel');
      } finally {
        up.kill('SIGINT');
        await exited;
      }
    } finally {
      await new Promise((resolve) => echo.close(resolve));
    }
  },
);

cli('no terminal and answers missing: exit 2 naming the flags, nothing written', async () => {
  const r = await run(['configure', 'sso', '--sso-session', 'work']);
  assert.is(r.code, 2);
  assert.is(
    r.stderr.split('\n')[0],
    "stormtunnel: no terminal to ask the wizard's questions: pass --start-url <url>, --sso-region <region>, --account-id <id>, --role-name <role>",
  );
  assert.not.match(r.stderr, /\n\s+at /, 'no stack');
  assert.not.ok(existsSync(ctx.h.configFile));
  const tunnel = await run([...wizardFlags(), '--add-tunnel']);
  assert.is(tunnel.code, 2);
  assert.match(tunnel.stderr, /pass --target <instance-id>, --remote-port <port>/);
});

cli('bad values: one line naming the flag and the value; exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['--start-url', 'http://my-org.awsapps.com/start'],
      /--start-url "http:\/\/my-org.awsapps.com\/start": must start with https:\/\//,
    ],
    [['--account-id', '1234'], /--account-id "1234": an account id is 12 digits/],
    [['--profile-name', 'my profile'], /--profile-name "my profile": use letters, digits/],
    [['--remote-port', '70000'], /--remote-port "70000": a port number 1-65535/],
  ];
  for (const [flags, re] of cases) {
    const r = await run(['configure', 'sso', ...flags]);
    assert.is(r.code, 2, flags.join(' '));
    assert.match(r.stderr.split('\n')[0] ?? '', re);
  }
  const p = await run(['configure', 'populate', '--sso-session', 'work', '--template', '{account_name}']);
  assert.is(p.code, 2);
  assert.match(p.stderr, /--template "\{account_name\}": the name must include \{role_name\}/);
});

cli('an AWS config it cannot parse is refused with the line number and left as it was', async () => {
  mkdirSync(ctx.h.home + '/.aws', { recursive: true });
  const text = '[default]\nregion = us-east-1\nthis line is not a setting\n';
  writeFileSync(ctx.h.configFile, text);
  const r = await run(wizardFlags());
  assert.is(r.code, 2);
  assert.match(
    r.stderr,
    /^stormtunnel: ~\/\.aws\/config line 3: not a "key = value" line.*the file was not changed/,
  );
  assert.is(readFileSync(ctx.h.configFile, 'utf8'), text);
  assert.not.ok(existsSync(`${ctx.h.configFile}.stormtunnel.bak`));
});

cli('an existing profile with other settings is not changed without --yes', async () => {
  mkdirSync(ctx.h.home + '/.aws', { recursive: true });
  writeFileSync(
    ctx.h.configFile,
    '# keep me\n[profile dev]\nregion = us-west-2\naws_access_key_id = AKIAEXAMPLE\n',
  );
  const r = await run([...wizardFlags(), '--profile-name', 'dev', '--no-add-tunnel']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /profile "dev" already exists \(static keys\); nothing was changed for it/);
  assert.match(
    readFileSync(ctx.h.configFile, 'utf8'),
    /^# keep me\n\[profile dev\]\nregion = us-west-2\naws_access_key_id = AKIAEXAMPLE\n\n\[sso-session work\]/,
  );
});

cli(
  'populate: --dry-run prints the diff and writes nothing; then adds every other role and leaves the rest',
  async () => {
    const first = await run([...wizardFlags(), '--no-add-tunnel']);
    assert.is(first.code, 0, first.stderr);
    const before = readFileSync(ctx.h.configFile, 'utf8');
    const dry = await run([
      'configure',
      'populate',
      '--sso-session',
      'work',
      '--dry-run',
      '--prefix',
      'emu-',
    ]);
    assert.is(dry.code, 0, dry.stderr);
    assert.is(readFileSync(ctx.h.configFile, 'utf8'), before, 'dry run writes nothing');
    assert.match(dry.stdout, /^--- ~\/\.aws\/config\n\+\+\+ ~\/\.aws\/config \(after populate\)\n@@ /);
    assert.match(dry.stdout, /\n\+\[profile emu-production-Developer\]\n\+sso_session = work\n/);
    assert.match(dry.stdout, /Dry run: 4 profiles would be added, 1 left untouched; nothing was written/);

    const r = await run([
      'configure',
      'populate',
      '--sso-session',
      'work',
      '--prefix',
      'emu-',
      '--region',
      'us-east-1',
    ]);
    assert.is(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /sandbox-AdministratorAccess\s+sandbox \(111111111111\)\s+AdministratorAccess\s+already configured as profile "sandbox-AdministratorAccess"/,
    );
    assert.match(
      r.stdout,
      /4 profiles added, 1 left untouched in ~\/\.aws\/config \(backup: ~\/\.aws\/config\.stormtunnel\.bak\)/,
    );
    const after = readFileSync(ctx.h.configFile, 'utf8');
    assert.ok(after.startsWith(before), 'existing text untouched');
    assert.is(readFileSync(`${ctx.h.configFile}.stormtunnel.bak`, 'utf8'), before);
    // The SDK's own loader sees exactly the old profiles plus the four new ones.
    const sdk = await loadSharedConfigFiles({ ignoreCache: true });
    assert.equal(Object.keys(sdk.configFile).sort(), [
      'emu-production-Billing',
      'emu-production-Developer',
      'emu-production-ReadOnly',
      'emu-sandbox-ReadOnly',
      'sandbox-AdministratorAccess',
      'sso-session.work',
    ]);
    assert.equal(sdk.configFile['emu-production-Developer'], {
      sso_session: 'work',
      sso_account_id: '222222222222',
      sso_role_name: 'Developer',
      region: 'us-east-1',
    });
    const who = await callerIdentity('emu-production-Developer');
    assert.is(who.Account, '222222222222');

    const nothing = await run(['configure', 'populate', '--sso-session', 'work', '--prefix', 'emu-']);
    assert.match(nothing.stdout, /0 profiles added, 5 left untouched/);
    assert.is(readFileSync(ctx.h.configFile, 'utf8'), after);
  },
);

cli('populate for a session that is not in the config: exit 2 with the way to create it', async () => {
  const r = await run(['configure', 'populate', '--sso-session', 'nope']);
  assert.is(r.code, 2);
  assert.match(
    r.stderr,
    /--sso-session nope: no \[sso-session nope\] with an sso_start_url in ~\/\.aws\/config/,
  );
  assert.match(r.stderr, /stormtunnel configure sso --sso-session nope/);
});

cli.run();
