// `stormtunnel demo`: the whole product on this machine, against the local AWS emulator. Starts the emulator
// and two small target services, writes a throw-away AWS config (an sso-session profile and a cross-account
// assume-role profile), signs in as a person would in the browser, brings up the tunnels of the example
// stormtunnel.config.ts, sends traffic through them, prints what happened, and cleans everything up.
// Nothing of the user's (~/.aws, keychain, desktop) is touched.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { packageRoot } from '../../package-root.js';
import type { createEngine } from '../../engine/engine.js';
import { StormtunnelError } from '../../engine/errors.js';
import type { TunnelConfig } from '../../engine/plugin.js';
import type { TunnelSet, TunnelStatus } from '../../engine/types.js';
import type { RunningEmulator } from '../../emulator/index.js';
import type { CommandRegistrar } from '../command.js';
import type { CliContext } from '../context.js';
import { printTable } from '../output.js';

function listen(server: Server | HttpServer, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new StormtunnelError(`the demo target port 127.0.0.1:${port} is in use by another program`, {
              hint: 'stop that program, or change remotePort of the demo tunnels in stormtunnel.config.ts',
            })
          : err,
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

function close(server: Server | HttpServer): Promise<void> {
  return new Promise((resolve) => {
    if ('closeAllConnections' in server) server.closeAllConnections();
    server.close(() => resolve());
  });
}

/** Waits until every named tunnel is ready (or one fails), with a bound. */
function waitReady(set: TunnelSet, names: string[], timeoutMs: number): Promise<TunnelStatus[]> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const all = set.status().filter((s) => names.includes(s.name));
      const failed = all.find((s) => s.state === 'failed');
      if (failed)
        return done(
          new StormtunnelError(`tunnel "${failed.name}" failed: ${failed.detail ?? 'see the log above'}`),
        );
      if (all.length === names.length && all.every((s) => s.state === 'ready')) return done(undefined, all);
    };
    const timer = setTimeout(
      () => done(new StormtunnelError(`the demo tunnels were not ready within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    const unsubscribe = set.onChange(check);
    function done(err?: Error, value?: TunnelStatus[]) {
      clearTimeout(timer);
      unsubscribe();
      if (err) reject(err);
      else resolve(value!);
    }
    check();
  });
}

/** Sends `data` through host:port to the echo target and returns what came back. */
function echoThrough(address: string, data: Buffer): Promise<Buffer> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    // No end() after writing: Session Manager has no TCP half-close, so ending our side closes both.
    const socket = connect(port, host, () => socket.write(data));
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (got >= data.length) socket.destroy();
    });
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.on('error', reject);
    socket.setTimeout(30_000, () => socket.destroy(new Error('no answer through the tunnel within 30 s')));
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 16);

async function demo(ctx: CliContext): Promise<number> {
  const out = (line = '') => ctx.io.stdout.write(line + '\n');
  const step = (n: number, text: string) => out(`\n[${n}/6] ${text}`);
  const root = packageRoot();
  const configFile = join(root, 'stormtunnel.config.ts');
  const work = mkdtempSync(join(tmpdir(), 'stormtunnel-demo-'));
  const saved = { ...process.env };
  const servers: (Server | HttpServer)[] = [];
  let emulator: RunningEmulator | undefined;
  let set: TunnelSet | undefined;
  let engine: Awaited<ReturnType<typeof createEngine>> | undefined;
  try {
    out(
      'stormtunnel demo: everything runs on this machine; your ~/.aws, keychain and desktop are not touched.',
    );

    step(1, 'Starting the local AWS emulator (SSO, STS, SSM and the Session Manager data channel)');
    const { startEmulator } = await import('../../emulator/index.js');
    emulator = await startEmulator({ port: 0 });
    out(`      ${emulator.url}  (sign-in start URL ${emulator.startUrl})`);

    // Loaded here, not at startup: the plugins and config loader bring the AWS SDK (slow for --help).
    const { loadConfig } = await import('../../config/load.js');
    const { createEngine } = await import('../../engine/engine.js');
    const { builtinPlugins } = await import('../../builtin-plugins.js');
    const config = await loadConfig({ file: configFile, cwd: root, builtins: () => [] });
    const tunnels: TunnelConfig[] = config.tunnels;
    step(2, `Starting the target services the tunnels of ${configFile} reach`);
    const web = createHttpServer((_req, res) =>
      res.end('hello from the web tier, through Session Manager\n'),
    );
    const db = createServer((s) => s.pipe(s).on('error', () => s.destroy()));
    for (const [server, t] of [
      [web, tunnels.find((x) => x.name === 'web')],
      [db, tunnels.find((x) => x.name === 'db')],
    ] as const) {
      if (!t)
        throw new StormtunnelError(
          `${configFile} has no "${server === web ? 'web' : 'db'}" tunnel for the demo`,
        );
      await listen(server, t.remotePort);
      servers.push(server);
      out(`      ${t.name}: 127.0.0.1:${t.remotePort} (the emulated instance ${t.target} forwards there)`);
    }

    step(
      3,
      'Writing a throw-away AWS config: an sso-session profile and a cross-account assume-role profile',
    );
    mkdirSync(join(work, '.aws'), { recursive: true });
    const awsConfig = `[profile demo-sso]
sso_session = demo
sso_account_id = 111111111111
sso_role_name = AdministratorAccess
region = us-east-1

[profile demo-cross-account]
role_arn = arn:aws:iam::222222222222:role/Deploy
source_profile = demo-sso
region = us-east-1

[sso-session demo]
sso_start_url = ${emulator.startUrl}
sso_region = us-east-1
sso_registration_scopes = sso:account:access
`;
    writeFileSync(join(work, '.aws', 'config'), awsConfig);
    writeFileSync(join(work, '.aws', 'credentials'), '');
    Object.assign(process.env, emulator.env(), {
      HOME: work,
      AWS_CONFIG_FILE: join(work, '.aws', 'config'),
      AWS_SHARED_CREDENTIALS_FILE: join(work, '.aws', 'credentials'),
      XDG_STATE_HOME: join(work, 'state'),
    });
    delete process.env.AWS_PROFILE;
    for (const line of awsConfig.trim().split('\n')) out(`      ${line}`);

    step(4, 'Signing in to IAM Identity Center (PKCE; the emulator plays the browser and approves)');
    engine = await createEngine({
      // The built-in plugins, with the browser replaced by a request to the authorize page, which the
      // auto-approving emulator answers with the redirect a person's "Allow" click would produce.
      plugins: builtinPlugins({ sso: { openUrl: async (url) => void (await (await fetch(url)).text()) } }),
      settings: { ...config.settings, keychain: false, notifications: false },
      tunnels,
      logger: ctx.logger,
    });
    emulator.admin.setAutoApprove(true);
    const signedIn = await engine.signIn({ profile: 'demo-sso' });
    out(
      `      signed in to "${signedIn.session}", token valid until ${signedIn.expiresAt.toISOString()}, refreshable: ${signedIn.refreshable}`,
    );

    step(5, 'Bringing up the tunnels (native Session Manager data channel, no session-manager-plugin)');
    await engine.start({ longRunning: true });
    set = await engine.startTunnels({
      allowSignIn: false,
      defaultProfile: 'demo-sso',
      regionFor: async () => 'us-east-1',
    });
    const ready = await waitReady(
      set,
      tunnels.map((t) => t.name),
      30_000,
    );
    for (const s of ready) out(`      ${s.name}: ${s.localAddress} -> ${s.target}  ready`);

    step(6, 'Sending traffic through them');
    const webStatus = ready.find((s) => s.name === 'web')!;
    const reply = await (await fetch(`http://${webStatus.localAddress}/`)).text();
    out(`      GET http://${webStatus.localAddress}/ -> ${JSON.stringify(reply.trim())}`);
    const dbStatus = ready.find((s) => s.name === 'db')!;
    const payload = randomBytes(4 * 1024 * 1024);
    const echoed = await echoThrough(dbStatus.localAddress!, payload);
    const same = echoed.equals(payload);
    out(
      `      4 MiB through ${dbStatus.localAddress} (cross-account) and back: sha256 ${sha(payload)} -> ${sha(echoed)} ${same ? 'identical' : 'DIFFERENT'}`,
    );
    if (!same)
      throw new StormtunnelError('the bytes that came back through the db tunnel differ from what was sent');

    out('\nStatus');
    printTable(
      ctx.io.stdout,
      ['TUNNEL', 'STATE', 'LOCAL', 'TARGET', 'CONNS', 'BYTES IN / OUT'],
      set
        .status()
        .map((s) => [
          s.name,
          s.state,
          s.localAddress,
          s.target,
          s.totalConnections,
          `${s.bytesIn} / ${s.bytesOut}`,
        ]),
    );
    const report = await engine.collectStatus({ profiles: ['demo-sso', 'demo-cross-account'], live: false });
    for (const e of report.entries.filter((x) => x.kind === 'sso-session'))
      out(`sso-session ${e.name}: ${e.state} (${e.detail ?? ''})`);
    const ops = emulator
      .requests()
      .reduce<Record<string, number>>(
        (acc, r) => ((acc[r.operation] = (acc[r.operation] ?? 0) + 1), acc),
        {},
      );
    out(
      `AWS calls the emulator served: ${Object.entries(ops)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    out(
      '\nDemo complete. Next: `stormtunnel emulator --print-env` to keep an emulator running and try the commands yourself (see the README).',
    );
    return 0;
  } finally {
    await set?.stop().catch(() => undefined);
    await engine?.shutdown({ reason: 'command-done' }).catch(() => undefined);
    await Promise.all(servers.map(close));
    await emulator?.close().catch(() => undefined);
    process.env = saved;
    rmSync(work, { recursive: true, force: true });
  }
}

export const registerDemo: CommandRegistrar = (program: Command, run) => {
  program
    .command('demo')
    .description('show the whole product on this machine against the local AWS emulator')
    .action(run(async (ctx) => demo(ctx)));
};
