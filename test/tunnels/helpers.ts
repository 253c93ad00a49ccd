// Shared setup for the tunnel tests: the in-process emulator, a throw-away AWS home with static keys, an
// engine with the ssm-tunnel plugin, target servers on 127.0.0.1 and byte-exact transfers.
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { suite, type Test } from 'uvu';
import { retry } from '../../plugins/retry/index.js';
import { ssmTunnel } from '../../plugins/ssm-tunnel/index.js';
import type { SsmTunnelOptions } from '../../plugins/ssm-tunnel/types.js';
import { DEFAULT_SETTINGS } from '../../src/config/defaults.js';
import {
  startEmulator,
  SEED_STATIC_ACCESS_KEY_ID,
  SEED_STATIC_SECRET_ACCESS_KEY,
} from '../../src/emulator/index.js';
import type { EmulatorOptions, RunningEmulator } from '../../src/emulator/index.js';
import type { AgentSessionStats } from '../../src/emulator/agent/index.js';
import { createEngine, type Engine, type EngineOptions } from '../../src/engine/engine.js';
import type { PluginApi, StormtunnelPlugin, TunnelConfig } from '../../src/engine/plugin.js';
import type { Clock, TunnelSet, TunnelStatus } from '../../src/engine/types.js';
import { testAwsHome, type TestAwsHome } from '../../src/testing/index.js';
import { captureLogger, type LogRecord } from '../helpers/logger.js';
import { stormtunnelModule } from '../helpers/cli.js';
import { withTimeout } from '../helpers/wait.js';

export const BASTION = 'i-0123456789abcdef0';
export const OFFLINE = 'i-0deadbeefdeadbeef';
export const STATIC_CREDENTIALS = `[default]
aws_access_key_id = ${SEED_STATIC_ACCESS_KEY_ID}
aws_secret_access_key = ${SEED_STATIC_SECRET_ACCESS_KEY}
`;

/**
 * Stand-in for the profile-credentials plugin: the emulator's static keys for every profile. `gate` lets a
 * test make credentials need a sign-in (errorClass token-expired) and `api` raise hooks like the sso plugin.
 */
export function staticKeys(state: { signedIn: boolean; calls: number; api?: PluginApi }): StormtunnelPlugin {
  return {
    name: 'test-static-keys',
    apply(api) {
      state.api = api;
      api.hooks.resolveCredentials.tap((req) => {
        state.calls++;
        if (!state.signedIn) {
          throw Object.assign(new Error('SSO Authentication Required: the sign-in has expired'), {
            errorClass: 'token-expired',
          });
        }
        if (req.profile === 'denied') return { ...DENIED_KEYS, source: 'test-static-keys' };
        return {
          accessKeyId: SEED_STATIC_ACCESS_KEY_ID,
          secretAccessKey: SEED_STATIC_SECRET_ACCESS_KEY,
          source: 'test-static-keys',
        };
      });
    },
  };
}

/** An IAM user the emulator denies ssm:StartSession (profile "denied" of staticKeys). */
export const DENIED_KEYS = {
  accessKeyId: 'AKIADENIEDUSER000001',
  secretAccessKey: 'emulator/denied/SECRET/key/000000000',
};
export const EMULATOR_STATE_WITH_DENIED_USER = {
  iamUsers: [
    {
      arn: 'arn:aws:iam::111111111111:user/ci',
      accessKeyId: SEED_STATIC_ACCESS_KEY_ID,
      secretAccessKey: SEED_STATIC_SECRET_ACCESS_KEY,
    },
    { arn: 'arn:aws:iam::111111111111:user/denied', ...DENIED_KEYS, deny: ['ssm:StartSession'] },
  ],
};

export function tunnel(name: string, remotePort: number, extra: Partial<TunnelConfig> = {}): TunnelConfig {
  return {
    name,
    profile: 'default',
    region: 'us-east-1',
    target: BASTION,
    remotePort,
    localPort: 0,
    remoteHost: undefined,
    bindAddress: '127.0.0.1',
    autostart: true,
    ...extra,
  };
}

/** A throw-away HOME whose default profile has the seed user's static keys, pointed at `emu`. */
export function staticKeysHome(emu: RunningEmulator): TestAwsHome {
  return testAwsHome({
    config: '[default]\nregion = us-east-1\n',
    credentials: STATIC_CREDENTIALS,
    emulatorEnv: emu.env(),
  });
}

export interface World {
  emu: RunningEmulator;
  home: TestAwsHome;
  logs: LogRecord[];
  keys: { signedIn: boolean; calls: number; api?: PluginApi };
  engine: Engine;
  close(): Promise<void>;
}

/** Emulator options for bulk tests: the agent unpaced, the service's limits off. */
export const UNPACED_EMULATOR = {
  pacing: false,
  clientMessageRateLimit: false,
  clientPayloadLimit: false,
} as const;

export async function world(
  tunnels: TunnelConfig[],
  opts: {
    plugin?: SsmTunnelOptions;
    extraPlugins?: StormtunnelPlugin[];
    emulator?: Omit<EmulatorOptions, 'port'> & { state?: Record<string, unknown> };
    /**
     * Bulk tests (hundreds of MiB): no pacing on either side, so they measure the client's own work. The
     * realistic limits (~1 MB/s per session, protocol §9) would make them take minutes.
     */
    unpaced?: boolean;
    /** The engine's clock (a FakeClock drives the tunnels' and data channels' timers). */
    clock?: Clock;
    /** The engine's wake detection (only runs once `engine.start({ longRunning: true })` is called). */
    wakeDetection?: EngineOptions['wakeDetection'];
  } = {},
): Promise<World> {
  const emu = await startEmulator({
    port: 0,
    autoApprove: true,
    ...(opts.unpaced ? UNPACED_EMULATOR : {}),
    ...(opts.emulator ?? {}),
  });
  const home = staticKeysHome(emu);
  const logger = captureLogger();
  const keys = { signedIn: true, calls: 0 };
  const engine = await createEngine({
    plugins: [
      staticKeys(keys),
      ...(opts.extraPlugins ?? []),
      ssmTunnel({
        connectionWait: '10s',
        ...opts.plugin,
        ...(opts.unpaced
          ? { dataChannel: { ...opts.plugin?.dataChannel, maxMessagesPerSecond: false } }
          : {}),
      }),
      retry({ baseDelay: '50ms', maxDelay: '500ms', jitter: false, maxRecoveryDuration: '20s' }),
    ],
    settings: DEFAULT_SETTINGS,
    tunnels,
    logger,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.wakeDetection ? { wakeDetection: opts.wakeDetection } : {}),
  });
  const w: World = {
    emu,
    home,
    logs: logger.records,
    keys,
    engine,
    async close() {
      openWorlds.delete(w);
      await engine.shutdown({ reason: 'command-done' });
      await emu.close();
      home.cleanup();
    },
  };
  openWorlds.add(w);
  return w;
}

/** Worlds not closed yet: a tunnel suite closes them after each test. */
const openWorlds = new Set<World>();

/**
 * A suite of tunnel tests: one echo target for the whole suite (`echo.port` once it runs), and every
 * `world()` a test makes closed after that test, passed or failed.
 */
export function tunnelSuite(name: string): { test: Test; echo: { port: number } } {
  const test = suite(name);
  let server: TcpServer | undefined;
  const echo = { port: 0 };
  test.before(async () => {
    server = await startEchoServer();
    echo.port = server.port;
  });
  test.after.each(async () => {
    for (const w of [...openWorlds]) await w.close();
  });
  test.after(async () => {
    await server?.close();
  });
  return { test, echo };
}

export async function startAll(w: World, names?: string[]): Promise<TunnelSet> {
  const set = await w.engine.startTunnels({
    ...(names ? { names } : {}),
    allowSignIn: false,
    defaultProfile: 'default',
    regionFor: async () => 'us-east-1',
  });
  await withTimeout(set.settled(), 20_000, 'tunnels settled');
  return set;
}

/** The emulator agent's figures for a session (its admin API types them loosely). */
export function agentStats(w: World, index = 0): AgentSessionStats | undefined {
  return w.emu.admin.listSessions()[index]?.stats as AgentSessionStats | undefined;
}

export function statusOf(set: TunnelSet, name: string): TunnelStatus {
  const s = set.status().find((t) => t.name === name);
  if (!s) throw new Error(`no tunnel ${name}`);
  return s;
}

export function localPort(set: TunnelSet, name: string): number {
  const a = statusOf(set, name).localAddress;
  if (!a) throw new Error(`tunnel ${name} has no local address (${statusOf(set, name).state})`);
  return Number(a.slice(a.lastIndexOf(':') + 1));
}

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

export const data = (n: number): Buffer => randomBytes(n);

export { waitFor, withTimeout } from '../helpers/wait.js';
import { startEchoServer, type TcpServer } from '../helpers/tcp.js';
export { freePort, serveTcp, startEchoServer, type TcpServer } from '../helpers/tcp.js';

/**
 * Connects to 127.0.0.1:port, writes `payload` (honouring backpressure) and reads as many bytes back from an
 * echo target; returns the SHA-256 of what came back. Rejects if the connection ends early.
 */
export function echoThrough(port: number, payload: Buffer, timeoutMs = 60_000): Promise<string> {
  const run = new Promise<string>((resolve, reject) => {
    const hash = createHash('sha256');
    let got = 0;
    const s = connect(port, '127.0.0.1');
    s.setNoDelay(true);
    s.on('data', (d: Buffer) => {
      hash.update(d);
      got += d.length;
      if (got >= payload.length) {
        s.destroy();
        resolve(hash.digest('hex'));
      }
    });
    s.once('error', reject);
    s.once('close', () => {
      if (got < payload.length) reject(new Error(`connection closed after ${got}/${payload.length} bytes`));
    });
    s.once('connect', () => {
      let off = 0;
      const CHUNK = 256 * 1024;
      const pump = () => {
        while (off < payload.length) {
          const ok = s.write(payload.subarray(off, off + CHUNK));
          off += CHUNK;
          if (!ok) {
            s.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
  return withTimeout(run, timeoutMs, `echo of ${payload.length} bytes through port ${port}`);
}

/**
 * Writes a stormtunnel.config.ts for a real `up` process: the emulator's static keys (a stand-in for the
 * profile-credentials plugin), the ssm-tunnel plugin, and with `fastRetry` a retry plugin with short delays.
 */
export function writeStaticKeysConfig(
  file: string,
  tunnels: object[],
  opts: { fastRetry?: boolean } = {},
): string {
  const imp = (p: string) => JSON.stringify(stormtunnelModule(p));
  writeFileSync(
    file,
    `import { definePlugin } from ${imp('src/engine/plugin.ts')};
import { ssmTunnel } from ${imp('plugins/ssm-tunnel/index.ts')};
import { retry } from ${imp('plugins/retry/index.ts')};
import { SEED_STATIC_ACCESS_KEY_ID, SEED_STATIC_SECRET_ACCESS_KEY } from ${imp('src/emulator/state.ts')};
const keys = definePlugin({
  name: 'test-static-keys',
  apply(api) {
    api.hooks.resolveCredentials.tap(() => ({ accessKeyId: SEED_STATIC_ACCESS_KEY_ID, secretAccessKey: SEED_STATIC_SECRET_ACCESS_KEY }));
  },
});
export default {
  plugins: [keys, ssmTunnel()${opts.fastRetry ? ", retry({ baseDelay: '50ms', jitter: false })" : ''}],
  tunnels: ${JSON.stringify(tunnels)},
};
`,
  );
  return file;
}

/**
 * `DIR/unpaced.config.ts`: the built-in plugins with our side of the data channel unpaced (the emulator's
 * agent too, with UNPACED_EMULATOR): 16-32 MiB at the realistic ~1 MB/s per session (protocol §9) would take
 * half a minute; byte-exactness is what the CLI transfer tests are about.
 */
export function writeUnpacedConfig(dir: string): string {
  const file = join(dir, 'unpaced.config.ts');
  writeFileSync(
    file,
    `import { builtinPlugins, ssmTunnel } from ${JSON.stringify(stormtunnelModule('src/index.ts'))};
export default {
  plugins: [
    ...builtinPlugins().filter((p) => p.name !== 'ssm-tunnel'),
    ssmTunnel({ dataChannel: { maxMessagesPerSecond: false } }),
  ],
};
`,
  );
  return file;
}
