// Startup benchmark: `stormtunnel --help` and `--version` from the built CLI (dist/, what an installed copy
// runs) against a bare `node -e 0` measured in the same run, so the ratios hold on a loaded machine.
// Usage: npm run build && node --import tsx bench/startup.ts [RUNS]   (default 20 runs each, interleaved)
// BENCH_BIN=path runs another stormtunnel bin (e.g. a globally installed one) instead of this checkout's.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = process.env.BENCH_BIN ?? `${ROOT}bin/stormtunnel.js`;
const RUNS = Number(process.argv[2] ?? 20);

if (!process.env.BENCH_BIN && !existsSync(`${ROOT}dist/src/cli/main.js`)) {
  console.error('bench/startup: no dist/ (run `npm run build` first): it measures the built CLI');
  process.exit(2);
}

const cases: [string, string[]][] = [
  ['node -e 0', ['-e', '0']],
  ['stormtunnel --help', [BIN, '--help']],
  ['stormtunnel --version', [BIN, '--version']],
];

function timeOnce(args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, {
    stdio: 'ignore',
    // The built CLI, as installed: not the TypeScript sources.
    env: { ...process.env, STORMTUNNEL_FROM_SOURCE: '0' },
  });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

// One warm-up each (disk cache), then the cases interleaved so load changes hit all of them alike.
for (const [, args] of cases) timeOnce(args);
const times = cases.map(() => [] as number[]);
for (let i = 0; i < RUNS; i++) cases.forEach(([, args], j) => times[j]!.push(timeOnce(args)));

const base = median(times[0]!);
for (const [j, [name]] of cases.entries()) {
  const m = median(times[j]!);
  console.log(
    `${name.padEnd(24)} median ${m.toFixed(1).padStart(7)} ms   ${(m / base).toFixed(2)}x node -e 0`,
  );
}
