// The README's five-minute walkthrough, run as written: the fenced blocks after `<!-- walkthrough:N -->`
// markers are the commands of terminal N, run by bash from the clone's folder with `npx stormtunnel`, the
// emulator in terminal 1, `up` in terminal 2 stopped by Ctrl-C (SIGINT to its process group, as a terminal
// sends it), `status` and `curl` in terminal 3.
//
// Three substitutions keep parallel test runs apart, nothing else is changed: the emulator port 4566 and the
// local port 15432 become free ports, and `.tmp/walkthrough` gets a unique suffix. `npx stormtunnel`
// runs the copy under test (CLI_ENV: the dist/ the runner transpiled, or the sources).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { commandExists, testIf } from '../helpers/system.js';
import { REPO_ROOT, CLI_ENV } from '../helpers/cli.js';

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const test = suite('README walkthrough');

interface Terminal {
  child: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
  closed: Promise<number | null>;
}

const terminals: Terminal[] = [];
const dir = `.tmp/walkthrough-test-${process.pid}`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function blocks(): { terminal: number; script: string }[] {
  return [...README.matchAll(/<!-- walkthrough:(\d) -->\n```sh\n([\s\S]*?)```\n/g)].map((m) => ({
    terminal: Number(m[1]),
    script: m[2]!,
  }));
}

/**
 * npx keeps state in its cache (~/.npm/_npx); a private one keeps the test independent of the user's cache
 * and of another npx running at the same time.
 */
const npmCache = mkdtempSync(join(tmpdir(), 'stormtunnel-npx-cache-'));

/** Runs a script in bash, in its own process group (a terminal's foreground job). */
function terminal(script: string): Terminal {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    ...CLI_ENV,
    npm_config_update_notifier: 'false',
    npm_config_cache: npmCache,
  };
  for (const k of ['AWS_PROFILE', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_CONFIG_FILE', 'XDG_STATE_HOME'])
    delete env[k];
  const child = spawn('bash', ['-c', `set -e\n${script}`], { cwd: REPO_ROOT, env, detached: true });
  const t: Terminal = {
    child,
    stdout: '',
    stderr: '',
    closed: new Promise((resolve) => child.on('close', (code) => resolve(code))),
  };
  child.stdout.on('data', (d: Buffer) => (t.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (t.stderr += d.toString()));
  terminals.push(t);
  return t;
}

async function waitFor(t: Terminal, what: string | RegExp, timeoutMs: number): Promise<void> {
  const found = () => (typeof what === 'string' ? t.stdout.includes(what) : what.test(t.stdout));
  const until = Date.now() + timeoutMs;
  while (!found()) {
    if (t.child.exitCode !== null || t.child.signalCode !== null)
      throw new Error(`the terminal ended before printing ${String(what)}:\n${t.stdout}\n${t.stderr}`);
    if (Date.now() > until)
      throw new Error(`no ${String(what)} within ${timeoutMs} ms:\n${t.stdout}\n${t.stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A clean end after Ctrl-C: exit 0, or the shell ended by the SIGINT itself (130 or the signal). */
function endedByCtrlC(t: Terminal, code: number | null): boolean {
  return code === 0 || code === 130 || (code === null && t.child.signalCode === 'SIGINT');
}

function ctrlC(t: Terminal): void {
  if (t.child.exitCode === null && t.child.pid) process.kill(-t.child.pid, 'SIGINT');
}

test.after(async () => {
  for (const t of terminals) {
    if (t.child.exitCode === null && t.child.signalCode === null && t.child.pid) {
      try {
        process.kill(-t.child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  rmSync(join(REPO_ROOT, dir), { recursive: true, force: true });
  rmSync(npmCache, { recursive: true, force: true });
});

const withCurl = testIf(test, commandExists('curl'), 'curl is needed by the README walkthrough');

withCurl('the walkthrough works verbatim against the emulator', async () => {
  const all = blocks();
  assert.equal(
    all.map((b) => b.terminal),
    [1, 2, 2, 2, 2, 2, 3],
    'the walkthrough blocks changed: update this test with them',
  );
  const [emuPort, localPort] = [await freePort(), await freePort()];
  const subst = (s: string) =>
    s
      .replaceAll('4566', String(emuPort))
      .replaceAll('15432', String(localPort))
      .replaceAll('.tmp/walkthrough', dir);
  const script = (n: number) =>
    all
      .filter((b) => b.terminal === n)
      .map((b) => subst(b.script))
      .join('\n');

  // Terminal 1: the emulator; the export lines it prints are the ones the README has in env.sh.
  const t1 = terminal(script(1));
  await waitFor(t1, /export STORMTUNNEL_EMULATOR_START_URL=.*\n/, 60_000);
  const printed = t1.stdout.split('\n').filter((l) => l.startsWith('export '));
  const inReadme = script(2)
    .split('\n')
    .filter((l) => /^export [A-Z0-9_]+=/.test(l) && !l.startsWith('export HOME='));
  assert.equal(
    inReadme,
    printed,
    'env.sh in the README is not what `stormtunnel emulator --print-env` prints',
  );
  assert.ok(t1.stdout.startsWith(`stormtunnel emulator listening on http://127.0.0.1:${emuPort}\n`));

  // Terminal 2: setup, login, profiles, check, then `up` in the foreground.
  const t2 = terminal(script(2));
  await waitFor(t2, `tunnel bastion: ready 127.0.0.1:${localPort} -> i-0123456789abcdef0:${emuPort}`, 90_000);
  assert.match(t2.stdout, /^Signed in to work; valid until .*, refreshed automatically$/m);
  assert.match(t2.stderr, /Sign in to work: confirm the code [A-Z]{4}-[A-Z]{4} at:/);
  assert.match(t2.stdout, /^dev +sso +us-east-1 +111111111111 \/ AdministratorAccess +work$/m);
  assert.match(t2.stdout, /^ {2}✅ start session: StartSession works/m);
  assert.match(t2.stdout, /^all 4 checks passed$/m);

  // Terminal 3: status sees the running `up`; curl goes through the tunnel to the emulator.
  const t3 = terminal(script(3));
  const code3 = await t3.closed;
  assert.is(code3, 0, t3.stderr);
  assert.match(t3.stdout, /^profile +dev +✅ Connected +111111111111 /m);
  assert.match(t3.stdout, /^sso-session +work +Authenticated +/m);
  assert.match(
    t3.stdout,
    new RegExp(`^bastion +ready +127\\.0\\.0\\.1:${localPort} +i-0123456789abcdef0:${emuPort} `, 'm'),
  );
  assert.ok(
    t3.stdout.includes(
      `{"ok":true,"url":"http://127.0.0.1:${emuPort}","startUrl":"http://127.0.0.1:${emuPort}/start"}`,
    ),
    t3.stdout,
  );

  // Ctrl-C in terminal 2, then in terminal 1.
  ctrlC(t2);
  const code2 = await t2.closed;
  // `up` prints "stopped" only after a clean stop. The shell itself may end by the same SIGINT (npm exec
  // passes the signal on), as an interactive one would go back to its prompt.
  assert.match(t2.stdout, /stopping: terminating the sessions of 1 tunnel\(s\)\nstopped\n$/);
  assert.ok(endedByCtrlC(t2, code2), `terminal 2 ended with ${code2}: ${t2.stderr}`);
  ctrlC(t1);
  const code1 = await t1.closed;
  assert.ok(endedByCtrlC(t1, code1), `terminal 1 ended with ${code1}: ${t1.stderr}`);
  assert.not.match(t1.stderr, /error/i);
});

test.run();
