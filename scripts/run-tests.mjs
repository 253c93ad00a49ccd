#!/usr/bin/env node
// Runs every test/**/*.test.ts file in its own process (uvu through tsx), two at a time, and ends with
// one line "N passed, N failed, N skipped" computed from uvu's summaries. A file that crashes or times out
// before printing its summary counts as one failure.
//
// Usage: npm test [-- FILTER...]   (FILTER: substrings of test file paths)
// Tests that start the CLI run the package as published: src/ and plugins/ are transpiled into dist/ once
// (esbuild, as tsx does it, but once instead of in every CLI process: about half of a CLI test's time on a
// busy machine). STORMTUNNEL_TEST_CLI=source runs them from the TypeScript sources through tsx instead.
// The suite runs inside a private D-Bus session with an unlocked gnome-keyring when those are installed,
// so keychain and notification tests never touch the user's own desktop session.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const inner = args[0] === '--inner';
const filters = inner ? args.slice(1) : args;

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

if (!inner && process.env.STORMTUNNEL_TEST_NO_DBUS !== '1' && has('dbus-run-session')) {
  // Private bus + keyring in a throw-away HOME for the daemon; the tests themselves keep their own HOMEs.
  const keyringHome = mkdtempSync(join(tmpdir(), 'stormtunnel-keyring-'));
  const unlock = has('gnome-keyring-daemon')
    ? `echo -n stormtunnel-test | HOME='${keyringHome}' gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; `
    : '';
  const quoted = filters.map((f) => `'${f.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn(
    'dbus-run-session',
    ['--', 'sh', '-c', `${unlock}exec node '${fileURLToPath(import.meta.url)}' --inner ${quoted}`],
    { stdio: ['inherit', 'inherit', 'pipe'], env: { ...process.env, STORMTUNNEL_TEST_DBUS: '1' } },
  );
  // The private bus daemon chatters on stderr (fd limits, service activation); keep the rest.
  let pending = '';
  child.stderr.on('data', (d) => {
    pending += d;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) if (!/^dbus-daemon\[\d+\]/.test(line)) process.stderr.write(line + '\n');
  });
  child.on('exit', (code, signal) => {
    rmSync(keyringHome, { recursive: true, force: true });
    process.exit(code ?? (signal ? 1 : 0));
  });
} else {
  await runAll();
}

function findFiles(dir, wanted) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'fixtures' || name === 'node_modules') continue;
    if (statSync(p).isDirectory()) out.push(...findFiles(p, wanted));
    else if (wanted(name)) out.push(p);
  }
  return out.sort();
}

function findTests(dir) {
  return findFiles(dir, (name) => name.endsWith('.test.ts'));
}

function runFile(file) {
  const timeoutMs = Number(process.env.STORMTUNNEL_TEST_FILE_TIMEOUT_MS ?? 240_000);
  const started = Date.now();
  return new Promise((resolve) => {
    const rel = relative(root, file);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'node_modules/uvu/bin.js'),
        join(root, 'test'),
        escapeRe(relative(join(root, 'test'), file)),
      ],
      {
        cwd: root,
        env: { ...process.env, NO_COLOR: '1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        detached: true,
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      // Stop anything the file left behind in its process group.
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? NaN);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
      let r;
      if (Number.isNaN(total) || Number.isNaN(passed)) {
        r = {
          passed: 0,
          failed: 1,
          skipped: 0,
          note: timedOut ? `timed out after ${timeoutMs} ms` : `exited ${code} before uvu's summary`,
        };
      } else {
        const failed = total - passed + (code !== 0 && total === passed ? 1 : 0);
        r = { passed, failed, skipped, note: code !== 0 && total === passed ? `exited ${code}` : '' };
      }
      resolve({ rel, out, seconds: (Date.now() - started) / 1000, ...r });
    });
  });
}

function escapeRe(s) {
  return '^' + s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$';
}

/** Transpiles src/ and plugins/ into dist/ (the layout `npm run build` writes and package.json exports). */
async function buildDist() {
  const { build } = await import('esbuild');
  const sources = [join(root, 'src'), join(root, 'plugins')].flatMap((dir) =>
    findFiles(dir, (name) => name.endsWith('.ts') && !name.endsWith('.d.ts')),
  );
  await build({
    entryPoints: sources,
    outdir: join(root, 'dist'),
    outbase: root,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
}

async function runAll() {
  let files = findTests(join(root, 'test'));
  if (filters.length) files = files.filter((f) => filters.some((x) => relative(root, f).includes(x)));
  if ((process.env.STORMTUNNEL_TEST_CLI ?? 'dist') === 'dist') {
    await buildDist();
    process.env.STORMTUNNEL_TEST_CLI = 'dist';
  }
  const jobs = Number(process.env.STORMTUNNEL_TEST_JOBS ?? Math.max(1, Math.min(2, cpus().length)));
  const results = [];
  let next = 0;
  async function worker() {
    while (next < files.length) {
      const file = files[next++];
      const r = await runFile(file);
      results.push(r);
      const status = r.failed ? 'FAIL' : 'ok  ';
      process.stdout.write(
        `${status} ${r.rel}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped${r.note ? ` (${r.note})` : ''} [${r.seconds.toFixed(1)} s]\n`,
      );
      if (r.failed || process.env.STORMTUNNEL_TEST_VERBOSE === '1') process.stdout.write(indent(r.out));
    }
  }
  await Promise.all(Array.from({ length: jobs }, worker));
  const sum = (k) => results.reduce((a, r) => a + r[k], 0);
  const failed = sum('failed') + (files.length === 0 ? 1 : 0);
  if (files.length === 0) process.stdout.write('no test files matched\n');
  process.stdout.write(`${sum('passed')} passed, ${failed} failed, ${sum('skipped')} skipped\n`);
  process.exitCode = failed ? 1 : 0;
}

function indent(s) {
  return s
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')
    .concat('\n');
}
