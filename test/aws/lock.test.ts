import { spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  LockTimeoutError,
  readSsoToken,
  tokenCacheKey,
  tokenCachePath,
  withFileLock,
  writeSsoToken,
} from '../../src/aws/index.js';
import { rotate } from './helpers/rotate.js';

const root = mkdtempSync(join(tmpdir(), 'stormtunnel-lock-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
const worker = fileURLToPath(new URL('./helpers/refresh-worker.ts', import.meta.url));

function run(
  cacheDir: string,
  key: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, cacheDir, key], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('20 processes refreshing one entry: one valid file, exactly 20 rotations, no refresh token lost', async () => {
  const cacheDir = join(root, 'cache');
  const key = tokenCacheKey({ ssoSessionName: 'concurrency' });
  const initial = 'rt-initial';
  await writeSsoToken(
    key,
    {
      accessToken: 'access-0',
      expiresAt: new Date(Date.now() + 600_000),
      refreshToken: initial,
      extra: { rotations: 0, keepMe: 'yes' },
    },
    { cacheDir },
  );
  const results = await Promise.all(Array.from({ length: 20 }, () => run(cacheDir, key)));
  for (const r of results) assert.is(r.code, 0, r.stderr);

  const expected: string[] = [initial];
  for (let i = 0; i < 20; i++) expected.push(rotate(expected[i] as string));
  // Every process consumed a different refresh token and together they consumed the chain in order.
  const consumed = results.map((r) => r.stdout.trim()).sort();
  assert.equal(consumed, expected.slice(0, 20).sort());

  const final = await readSsoToken(key, { cacheDir });
  assert.ok(final);
  assert.is(final.refreshToken, expected[20]);
  assert.is(final.extra.rotations, 20);
  assert.is(final.extra.keepMe, 'yes');
  assert.match(final.accessToken, /^access-20-/);
  JSON.parse(readFileSync(tokenCachePath(key, { cacheDir }), 'utf8'));
  assert.is(statSync(tokenCachePath(key, { cacheDir })).mode & 0o777, 0o600);
  assert.equal(readdirSync(cacheDir), [`${key}.json`], 'no temp or lock files left behind');
});

test('waiters time out with a clear error naming the holder', async () => {
  const lock = join(root, 'held.lock');
  let inner: unknown;
  await withFileLock(lock, async () => {
    inner = await withFileLock(lock, async () => 'never', { timeoutMs: 150 }).catch((e: unknown) => e);
  });
  assert.instance(inner, LockTimeoutError);
  assert.match(String((inner as Error).message), new RegExp(`held by pid ${process.pid}`));
  assert.match(String((inner as Error).message), /delete the lock file/);
});

test('a lock left by a dead process is taken over', async () => {
  const lock = join(root, 'dead.lock');
  // A pid that cannot be alive on this host.
  writeFileSync(
    lock,
    JSON.stringify({
      pid: 2 ** 22 + 12345,
      host: hostname(),
      createdAt: new Date().toISOString(),
      nonce: 'x',
    }),
  );
  const started = Date.now();
  assert.is(await withFileLock(lock, async () => 'got it', { timeoutMs: 2000 }), 'got it');
  assert.ok(Date.now() - started < 1000);
});

test('a lock not touched for staleMs is taken over; a fresh one is not', async () => {
  const lock = join(root, 'old.lock');
  writeFileSync(
    lock,
    JSON.stringify({ pid: process.pid, host: 'other-host', createdAt: 'then', nonce: 'y' }),
  );
  const past = new Date(Date.now() - 60_000);
  utimesSync(lock, past, past);
  assert.is(await withFileLock(lock, async () => 1, { timeoutMs: 2000, staleMs: 5000 }), 1);
  writeFileSync(lock, JSON.stringify({ pid: process.pid, host: 'other-host', createdAt: 'now', nonce: 'z' }));
  const e = await withFileLock(lock, async () => 2, { timeoutMs: 200, staleMs: 5000 }).catch(
    (x: unknown) => x,
  );
  assert.instance(e, LockTimeoutError);
});

test('the holder keeps its lock fresh while working longer than staleMs', async () => {
  const lock = join(root, 'heartbeat.lock');
  mkdirSync(root, { recursive: true });
  let second: unknown;
  await withFileLock(
    lock,
    async () => {
      second = await withFileLock(lock, async () => 'stolen', { timeoutMs: 700, staleMs: 300 }).catch(
        (x: unknown) => x,
      );
    },
    { staleMs: 300 },
  );
  assert.instance(second, LockTimeoutError);
});

test.run();
