// Shared set-up for the end-to-end tests: headless Debian Chromium as the person's browser, a prompt that
// records what stormtunnel shows, long-running CLI processes that are always stopped, a private D-Bus session
// bus with its own gnome-keyring, AWS configs with an sso-session of a name no other test file uses, and the
// desktop those make together for the notification tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import {
  SEED_PASSWORD,
  SEED_USERNAME,
  startEmulator,
  type RunningEmulator,
} from '../../src/emulator/index.js';
import { testAwsHome, type TestAwsHome } from '../../src/testing/index.js';
import { fakeBrowser } from '../helpers/fake-browser.js';
import { startEchoServer, type TcpServer } from '../tunnels/helpers.js';
import { BIN, CLI_ENV } from '../helpers/cli.js';
import { commandExists } from '../helpers/system.js';
import { withTimeout } from '../helpers/wait.js';

export { waitFor, withTimeout } from '../helpers/wait.js';
export { CHROMIUM, hasChromium, launchChromium, type Browser } from '../helpers/chromium.js';

// ---- the person ----

/** The emulator's sign-in form, filled in and sent as a person would. */
export async function fillSignInForm(page: Page): Promise<void> {
  await page.waitForSelector('#username');
  await page.fill('#username', SEED_USERNAME);
  await page.fill('#password', SEED_PASSWORD);
  await Promise.all([page.waitForLoadState('load'), page.click('#signin')]);
}

// ---- what stormtunnel shows ----

// ---- AWS config ----

/** A unique sso-session name: the Secret Service of a test run is shared by every test file. */
export function uniqueSession(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Profile `dev` (AdministratorAccess of 111111111111) on sso-session `session` of the emulator. */
export function ssoConfig(startUrl: string, session: string): string {
  return (
    `[default]
region = us-east-1
` + ssoProfile('dev', session, startUrl)
  );
}

/** `[profile NAME]` (AdministratorAccess of 111111111111) and its own `[sso-session SESSION]`. */
export function ssoProfile(profile: string, session: string, startUrl: string): string {
  return `
[profile ${profile}]
sso_session = ${session}
sso_account_id = 111111111111
sso_role_name = AdministratorAccess
region = us-east-1

[sso-session ${session}]
sso_start_url = ${startUrl}
sso_region = us-east-1
sso_registration_scopes = sso:account:access
`;
}

// ---- processes ----

export interface Proc {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL when it has not exited within `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

/** Requests the emulator served for `operation` (and, given, that OIDC grant type). */
export function countRequests(emu: RunningEmulator, operation: string, grant?: string): number {
  return emu
    .requests()
    .filter((r) => r.operation === operation && (grant === undefined || r.params.grantType === grant)).length;
}

/** The exit code (null when it could not start or died of a signal); SIGKILL after `killAfterMs` regardless. */
function exitOf(child: ChildProcess, killAfterMs = 90_000): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve(code));
  });
  const kill = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  void exited.then(() => clearTimeout(kill));
  return exited;
}

/** `stormtunnel ARGS` from source, killed at `killAfterMs` whatever happens in the test. */
export function spawnCli(
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; killAfterMs?: number },
): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env, NO_COLOR: '1', ...CLI_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = exitOf(child, opts.killAfterMs);
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

// ---- a private session bus with its own Secret Service ----

export const privateBusAvailable =
  process.platform === 'linux' &&
  commandExists('dbus-daemon') &&
  commandExists('gnome-keyring-daemon') &&
  commandExists('secret-tool') &&
  commandExists('notify-send');

export interface PrivateBus {
  /** DBUS_SESSION_BUS_ADDRESS of the bus. */
  address: string;
  /** Env for processes on this bus (its own XDG_RUNTIME_DIR for the keyring's control socket). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * A session bus of this test file alone (dbus-daemon) with an unlocked gnome-keyring on it. The suite's
 * shared bus is also used by other test files running at the same time, which own or expect to find no
 * org.freedesktop.Notifications; a bus of our own keeps the notification count exact. gnome-keyring exits
 * when its bus goes away.
 */
export async function startPrivateBus(): Promise<PrivateBus> {
  const dir = mkdtempSync(join(tmpdir(), 'stormtunnel-e2e-bus-'));
  const runtime = join(dir, 'run');
  const keyringHome = join(dir, 'home');
  mkdirSync(runtime, { mode: 0o700 });
  mkdirSync(keyringHome, { mode: 0o700 });
  const daemon = spawn('dbus-daemon', ['--session', '--nofork', '--nopidfile', '--print-address=1'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const daemonExited = new Promise<void>((r) => daemon.once('close', () => r()));
  const close = async () => {
    daemon.kill('SIGTERM');
    const t = setTimeout(() => daemon.kill('SIGKILL'), 5000);
    await daemonExited;
    clearTimeout(t);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const address = await withTimeout(
      new Promise<string>((resolve, reject) => {
        let out = '';
        daemon.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const nl = out.indexOf('\n');
          if (nl >= 0) resolve(out.slice(0, nl).trim());
        });
        daemon.once('error', reject);
        daemon.once('close', (code) => reject(new Error(`dbus-daemon exited (${code})`)));
      }),
      10_000,
      'dbus-daemon address',
    );
    const env = { DBUS_SESSION_BUS_ADDRESS: address, XDG_RUNTIME_DIR: runtime };
    // --unlock reads the password on stdin; the daemon forks and stays on the bus until the bus ends.
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        const gk = spawn('gnome-keyring-daemon', ['--unlock', '--components=secrets'], {
          env: { ...process.env, ...env, HOME: keyringHome },
          stdio: ['pipe', 'ignore', 'ignore'],
        });
        gk.once('error', reject);
        gk.once('close', (code) =>
          code === 0 ? resolve() : reject(new Error(`gnome-keyring-daemon exited ${code}`)),
        );
        gk.stdin.end('stormtunnel-e2e');
      }),
      15_000,
      'gnome-keyring-daemon --unlock',
    );
    return { address, env, close };
  } catch (err) {
    await close();
    throw err;
  }
}

// ---- a desktop: emulator, signed-in HOME, echo target, fake browser and a private bus ----

export interface DesktopHarness {
  emu: RunningEmulator;
  home: TestAwsHome;
  echo: TcpServer;
  /** A temporary folder of the test file (configs, XDG_STATE_HOME, the fake browser). */
  dir: string;
  /** For CLI processes: the HOME's env, the private bus, XDG_STATE_HOME, $BROWSER and no display. */
  env: NodeJS.ProcessEnv;
  /** The file the fake browser writes the URL it was asked to open to. */
  browserMarker: string;
  /** Undefined where no private bus can run (the tests then skip, or fail under CI=true). */
  bus: PrivateBus | undefined;
  /** Stops everything it started and gives this process its DBUS_SESSION_BUS_ADDRESS back. */
  close(): Promise<void>;
}

/**
 * What the desktop tests run against: the emulator (sign-in pages approve at once), a HOME with the AWS
 * config `config(emu)` gives, an echo server, a fake browser, and a private session bus that this process
 * uses too (the notification recorder, dbus-next, connects to DBUS_SESSION_BUS_ADDRESS).
 */
export async function startDesktopHarness(
  dirPrefix: string,
  config: (emu: RunningEmulator) => string,
): Promise<DesktopHarness> {
  const savedBus = process.env.DBUS_SESSION_BUS_ADDRESS;
  const emu = await startEmulator({ port: 0, autoApprove: true });
  const home = testAwsHome({ config: config(emu), emulatorEnv: emu.env() });
  const echo = await startEchoServer();
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  const browser = fakeBrowser(dir);
  const env: NodeJS.ProcessEnv = {
    ...home.env,
    XDG_STATE_HOME: join(dir, 'state'),
    STORMTUNNEL_LOG_LEVEL: 'info',
    BROWSER: browser.command,
    DISPLAY: '',
    WAYLAND_DISPLAY: '',
  };
  const bus = privateBusAvailable ? await startPrivateBus() : undefined;
  if (bus) {
    Object.assign(env, bus.env);
    process.env.DBUS_SESSION_BUS_ADDRESS = bus.address;
  }
  const close = async (): Promise<void> => {
    if (savedBus === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
    else process.env.DBUS_SESSION_BUS_ADDRESS = savedBus;
    await bus?.close();
    await echo.close();
    await emu.close();
    home.cleanup();
    rmSync(dir, { recursive: true, force: true });
  };
  return { emu, home, echo, dir, env, browserMarker: browser.marker, bus, close };
}

// ---- a terminal ----

export interface PtyProc {
  /** The `script` process that holds the pseudo-terminal; the command is its only child. */
  child: ChildProcess;
  /** Everything the terminal showed, escape sequences removed. */
  text(): string;
  exited: Promise<number | null>;
}

/** `stormtunnel ARGS` on a pseudo-terminal (util-linux `script`), as a person at a terminal runs it. */
export function spawnCliInPty(
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; killAfterMs?: number },
): PtyProc {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, BIN, ...args].map(quote).join(' ');
  const child = spawn('script', ['-qefc', `stty cols 200 rows 50; exec ${command}`, '/dev/null'], {
    cwd: opts.cwd,
    env: {
      ...process.env,
      ...opts.env,
      NO_COLOR: '1',
      ...CLI_ENV,
      TERM: 'xterm-256color',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let raw = '';
  child.stdout?.on('data', (d: Buffer) => (raw += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (raw += d.toString()));
  const exited = exitOf(child, opts.killAfterMs);
  return {
    child,
    // eslint-disable-next-line no-control-regex
    text: () => raw.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r/g, ''),
    exited,
  };
}
