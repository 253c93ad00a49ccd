// One process of the concurrency test: take the lock, re-read, "refresh" (new accessToken, rotated
// refreshToken derived from the previous one), write, release. Prints the refresh token it consumed.
import { setTimeout as sleep } from 'node:timers/promises';
import { readSsoToken, withTokenLock, writeSsoToken } from '../../../src/aws/index.js';
import { rotate } from './rotate.js';

const [cacheDir, key] = process.argv.slice(2);
if (!cacheDir || !key) throw new Error('usage: refresh-worker <cacheDir> <key>');

const consumed = await withTokenLock(
  key,
  async () => {
    const token = await readSsoToken(key, { cacheDir });
    if (!token?.refreshToken) throw new Error('no token to refresh');
    // Widen the window between read and write so a missing lock would lose updates.
    await sleep(Math.random() * 20);
    const rotations = Number(token.extra.rotations ?? 0) + 1;
    await writeSsoToken(
      key,
      {
        ...token,
        accessToken: `access-${rotations}-${process.pid}`,
        refreshToken: rotate(token.refreshToken),
        expiresAt: new Date(Date.now() + 3600_000),
        extra: { ...token.extra, rotations },
      },
      { cacheDir },
    );
    return token.refreshToken;
  },
  { cacheDir, timeoutMs: 120_000 },
);
process.stdout.write(`${consumed}\n`);
