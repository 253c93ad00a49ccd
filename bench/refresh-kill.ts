// Usage: node --import tsx bench/refresh-kill.ts [kills] [SIGKILL|SIGTERM|SIGINT] [--baseline DIR]
//        (npm run bench:refresh-kill). --baseline: another checkout (say, a worktree of an earlier commit)
//        whose bin/stormtunnel.js takes every other round, so both are measured under the same load.
//
// How many sign-ins a stopped refresh loses. IAM Identity Center rotates the refresh token at CreateToken
// (the emulator models it: the old one is refused at once), so a process stopped after the service answered
// and before the new token is on disk leaves a cache whose refresh token no longer works: the user must sign
// in again at the next expiry.
//
// Each round runs `stormtunnel credential-process` with a refresh window longer than the token's life, so
// every run refreshes; when the emulator has answered its CreateToken (refresh_token grant), the process is
// sent the signal after a random delay within the time a run takes from that answer to its exit (measured
// first, without signals). Only signals that reach a process still running after the answer count ("landed
// during a refresh"). Then the stores are read as stormtunnel reads them (the token that expires last of
// the keychain's and the AWS CLI cache's): when the refresh token there is still the one the service just
// rotated out, the sign-in is lost (the access token still works until it expires, which is why a second
// run cannot tell); it is signed in again for the next round. With the Secret Service available
// (dbus-daemon and gnome-keyring), the token is kept in both stores, as on a desktop.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { napiKeyringBackend } from '../plugins/keychain/backend.js';
import { KeychainStore } from '../plugins/keychain/store.js';
import { readSsoToken, tokenCacheKey } from '../src/aws/index.js';
import { startEmulator } from '../src/emulator/index.js';
import { captureLogger } from '../src/testing/index.js';
import { testAwsHome } from '../src/testing/index.js';
import { BIN, runCli } from '../test/helpers/cli.js';
import { privateBusAvailable, ssoConfig, startPrivateBus, uniqueSession } from '../test/e2e/helpers.js';

const args = process.argv.slice(2);
const baselineAt = args.indexOf('--baseline');
const baselineDir = baselineAt >= 0 ? args.splice(baselineAt, 2)[1] : undefined;
const target = Number(args[0] ?? 50);
const signal = (args[1] ?? 'SIGKILL') as NodeJS.Signals;
if (!Number.isInteger(target) || target < 1)
  throw new Error(`kills must be a whole number, got ${process.argv[2]}`);
if (signal !== 'SIGKILL' && signal !== 'SIGTERM' && signal !== 'SIGINT')
  throw new Error(`signal must be SIGKILL, SIGTERM or SIGINT, got ${signal}`);

const emu = await startEmulator({ port: 0, autoApprove: true });
const bus = privateBusAvailable ? await startPrivateBus() : undefined;
const session = uniqueSession('kill');
const home = testAwsHome({ config: ssoConfig(emu.startUrl, session), emulatorEnv: emu.env() });
const dir = mkdtempSync(join(tmpdir(), 'stormtunnel-refresh-kill-'));
const cwd = join(dir, 'work');
mkdirSync(cwd);
writeFileSync(
  join(cwd, 'stormtunnel.config.json'),
  JSON.stringify({ settings: { notifications: false, earlyRefreshThreshold: '2h' } }),
);
const env = {
  ...home.env,
  ...(bus?.env ?? {}),
  XDG_STATE_HOME: join(dir, 'state'),
  STORMTUNNEL_LOG_LEVEL: 'warn',
};

// The keychain is read in this process: it must talk to the same session bus as the runs.
Object.assign(process.env, bus?.env ?? {});
const keychain = bus ? new KeychainStore(napiKeyringBackend(), 'stormtunnel', captureLogger()) : undefined;
const cacheKey = tokenCacheKey({ ssoSessionName: session });

/** The refresh token stormtunnel would use next: that of the token, of the two stores, that expires last. */
async function durableRefreshToken(): Promise<string | undefined> {
  const [stored, cached] = await Promise.all([
    keychain?.get(session) ?? null,
    readSsoToken(cacheKey, { env: home.env }),
  ]);
  if (stored && (!cached || stored.expiresAt.getTime() >= cached.expiresAt.getTime()))
    return stored.refreshToken;
  return cached?.refreshToken;
}

const refreshAnswered = () =>
  emu.requests().some((r) => r.operation === 'CreateToken' && r.params.grantType === 'refresh_token');

async function signIn(): Promise<void> {
  const r = await runCli(['login', '--profile', 'dev', '--use-device-code', '--no-browser'], {
    cwd,
    env,
    timeoutMs: 60_000,
  });
  if (r.code !== 0) throw new Error(`sign-in failed (${r.code}): ${r.stderr}`);
}

interface Round {
  /** The signal reached the process after the service had answered its refresh. */
  landed: boolean;
  /** The stores still hold the refresh token the service rotated out. */
  lost: boolean;
  /** ms from the answer being seen to the process's own exit (no signal sent), for calibration. */
  tailMs?: number;
}

/** One credential-process run; `delayMs` (after the refresh answer) sends the signal, undefined sends none. */
interface Variant {
  name: string;
  bin: string;
  /** Median ms from the refresh's answer to the process's own exit: the range the signal is sent in. */
  window: number;
  landed: number;
  lost: number;
  rounds: number;
}

async function round(bin: string, delayMs: number | undefined): Promise<Round> {
  emu.admin.clearRequests();
  const before = await durableRefreshToken();
  if (!before) throw new Error('no refresh token stored before the round');
  const child = spawn(process.execPath, [bin, 'credential-process', '--profile', 'dev'], {
    cwd,
    env: { ...process.env, ...env, STORMTUNNEL_FROM_SOURCE: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('close', () => resolve()));
  void exit.then(() => (exited = true));
  const hang = setTimeout(() => child.kill('SIGKILL'), 60_000);
  // Watch for the answer as closely as this process can: a check on every turn of the event loop.
  let answeredAt: number | undefined;
  await new Promise<void>((resolve) => {
    const poll = () => {
      if (exited) return resolve();
      if (refreshAnswered()) {
        answeredAt = performance.now();
        return resolve();
      }
      setImmediate(poll);
    };
    poll();
  });
  if (answeredAt !== undefined && delayMs !== undefined) {
    const send = () => {
      if (!exited) child.kill(signal);
    };
    if (delayMs < 1) send();
    else setTimeout(send, delayMs);
  }
  await exit;
  clearTimeout(hang);
  const tail = answeredAt === undefined ? undefined : performance.now() - answeredAt;
  if (delayMs === undefined && child.exitCode !== 0)
    throw new Error(`credential-process failed without a signal (${child.exitCode}): ${stderr}`);
  // A process that handles the signal exits with a non-zero code of its own instead of dying of it.
  const stopped = child.signalCode === signal || (signal !== 'SIGKILL' && child.exitCode !== 0);
  const landed = delayMs !== undefined && answeredAt !== undefined && stopped;
  const lost = answeredAt !== undefined && (await durableRefreshToken()) === before;
  return { landed, lost, ...(tail !== undefined && delayMs === undefined ? { tailMs: tail } : {}) };
}

try {
  await signIn();
  const variants: Variant[] = [
    { name: 'this checkout', bin: BIN, window: 0, landed: 0, lost: 0, rounds: 0 },
    ...(baselineDir
      ? [
          {
            name: `baseline ${baselineDir}`,
            bin: join(baselineDir, 'bin', 'stormtunnel.js'),
            window: 0,
            landed: 0,
            lost: 0,
            rounds: 0,
          },
        ]
      : []),
  ];
  for (const v of variants) {
    const tails: number[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await round(v.bin, undefined);
      if (r.lost)
        throw new Error(`${v.name}: a run without a signal left the rotated-out refresh token in the stores`);
      if (r.tailMs !== undefined) tails.push(r.tailMs);
    }
    tails.sort((a, b) => a - b);
    v.window = tails[Math.floor(tails.length / 2)] ?? 50;
    console.log(
      `${v.name}: calibration ${tails.length} runs, answer-to-exit median ${v.window.toFixed(1)} ms (min ${tails[0]?.toFixed(1)}, max ${tails.at(-1)?.toFixed(1)})`,
    );
  }
  // Rounds alternate between the variants, so load on the machine falls on both alike.
  while (variants.some((v) => v.landed < target && v.rounds < target * 8)) {
    for (const v of variants) {
      if (v.landed >= target || v.rounds >= target * 8) continue;
      v.rounds++;
      const r = await round(v.bin, Math.random() * v.window);
      if (r.lost) await signIn();
      if (!r.landed) continue;
      v.landed++;
      if (r.lost) v.lost++;
      if (v.landed % 10 === 0) console.log(`  ${v.name}: ${v.landed} landed, ${v.lost} sign-ins lost`);
    }
  }
  for (const v of variants) {
    console.log(
      `${v.name}: ${signal}: ${v.landed} signals landed during a refresh (of ${v.rounds} rounds); sign-ins lost: ${v.lost} (${((100 * v.lost) / Math.max(1, v.landed)).toFixed(1)}%)`,
    );
  }
  console.log(`stores: ${bus ? 'keychain + AWS CLI cache' : 'AWS CLI cache only (no Secret Service)'}`);
} finally {
  home.cleanup();
  rmSync(dir, { recursive: true, force: true });
  await bus?.close();
  await emu.close();
}
