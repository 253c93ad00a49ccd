// credential_process is bounded: a timeout or an output flood stops the whole process group and settles
// at once (a grandchild holding stdout does not keep us waiting), and a command that cannot start fails at
// once without a timer keeping the process alive.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCredentialProcess } from '../../src/aws/credentials.js';
import { waitFor, withTimeout } from '../helpers/wait.js';

const test = suite('credential_process bounds');
const dir = mkdtempSync(join(tmpdir(), 'stormtunnel-credproc-'));
const WHERE = { file: join(dir, 'config'), profile: 'p' };
test.after(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Alive and not a zombie (an orphan's zombie may wait for a PID 1 that never reaps it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return process.platform !== 'linux';
  }
}

async function failure(p: Promise<unknown>, guardMs: number, what: string): Promise<string> {
  try {
    await withTimeout(p, guardMs, what);
  } catch (err) {
    if ((err as Error).message.startsWith('timed out after')) throw err;
    return (err as Error).message;
  }
  throw new Error(`${what}: expected an error`);
}

async function grandchildPid(pidFile: string): Promise<number> {
  await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 20_000, pidFile);
  return Number(readFileSync(pidFile, 'utf8').trim());
}

test('a timeout settles at the limit although a grandchild holds stdout, and stops the grandchild', async () => {
  const pidFile = join(dir, 'timeout.pid');
  // The shell waits for its background `sleep`, which shares (and keeps open) the shell's stdout.
  const cmd = script('hang.sh', `sleep 600 &\necho $! > "$1"\necho "still working" >&2\nwait`);
  // Its failure is awaited from the start: the command may fail before its grandchild's pid is read.
  const outcome = failure(
    runCredentialProcess(`${cmd} ${pidFile}`, WHERE, { timeoutMs: 3_000 }),
    30_000,
    'the timed-out credential_process',
  );
  const pid = await grandchildPid(pidFile);
  // The guard is far below the 600 s the grandchild would hold stdout.
  const msg = await outcome;
  assert.match(
    msg,
    /profile "p" credential_process timed out after 3 s and was stopped with everything it started/,
  );
  assert.match(msg, /its stderr ends: still working/);
  await waitFor(() => !alive(pid), 20_000, `the grandchild ${pid} to be gone`);
});

test('a command that exits while a background child holds its stdout is stopped at the limit', async () => {
  const pidFile = join(dir, 'background.pid');
  const cmd = script('background.sh', `sleep 600 &\necho $! > "$1"\necho '{"Version": 1}'\nexit 0`);
  const outcome = failure(
    runCredentialProcess(`${cmd} ${pidFile}`, WHERE, { timeoutMs: 3_000 }),
    30_000,
    'the credential_process with a background child',
  );
  const pid = await grandchildPid(pidFile);
  const msg = await outcome;
  assert.match(msg, /exited, but a process it started kept its output open for 3 s; it was stopped/);
  await waitFor(() => !alive(pid), 20_000, `the background child ${pid} to be gone`);
});

test('more than 1 MiB on stdout stops the group with a bounded error, never echoing stdout', async () => {
  const pidFile = join(dir, 'flood.pid');
  const cmd = script(
    'flood.sh',
    `sleep 600 &\necho $! > "$1"\nhead -c 10485760 /dev/zero | tr '\\0' 'S'\nwait`,
  );
  const outcome = failure(
    runCredentialProcess(`${cmd} ${pidFile}`, WHERE, { timeoutMs: 120_000 }),
    30_000,
    'the flooding credential_process',
  );
  const pid = await grandchildPid(pidFile);
  const msg = await outcome;
  assert.match(
    msg,
    /credential_process printed more than 1 MiB and was stopped; it must print only the credentials JSON/,
  );
  assert.not.match(msg, /SSSS/);
  assert.ok(msg.length < 400, `a short message: ${msg.length} characters`);
  await waitFor(() => !alive(pid), 20_000, `the flooding group's ${pid} to be gone`);
});

test('a command that does not exist fails at once and leaves nothing keeping the process alive', async () => {
  const helper = fileURLToPath(new URL('./helpers/missing-command.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', helper, join(dir, 'no-such-helper'), '120000'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    // Well below the 120 s timeout: the old spawn `timeout` timer kept the process alive that long.
    const code = await withTimeout(exited, 40_000, 'the process to end by itself');
    assert.is(code, 0, out);
  } finally {
    child.kill('SIGKILL');
  }
  assert.match(out, /credential_process could not start ".*no-such-helper" \(ENOENT\); check the command/);
});

test('a non-zero exit names the code and the end of stderr, shortened', async () => {
  const cmd = script(
    'fails.sh',
    `echo "line one" >&2\nprintf 'x%.0s' $(seq 1 400) >&2\necho >&2\necho "the real reason" >&2\nexit 7`,
  );
  const msg = await failure(runCredentialProcess(cmd, WHERE, { timeoutMs: 60_000 }), 30_000, 'fails.sh');
  assert.match(msg, /exited with code 7: line one \| x{159}… \| the real reason$/);
});

test.run();
