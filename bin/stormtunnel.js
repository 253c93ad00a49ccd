#!/usr/bin/env node
// Runs the built CLI (dist/) as installed. In a source checkout (src/ beside dist/) it runs the TypeScript
// sources through tsx, so what runs is what was last edited, never a dist/ left by an older build or test
// run; STORMTUNNEL_FROM_SOURCE=0 runs that dist/ (as the tests do, after transpiling it), =1 the sources.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

// `up` runs for hours and streams every byte through Buffers: with V8's default young generation (16 MiB
// semi-spaces, grown while the AWS SDK loads) it holds ~30 MB more and frees garbage Buffers later. A
// shebang cannot pass V8 flags portably and they cannot be changed once V8 runs (v8.setFlagsFromString
// accepts --max-semi-space-size but the heap keeps its size), so `up` re-runs this file in a child Node
// with the flag. STORMTUNNEL_NO_REEXEC=1, or the flag already given (node options, NODE_OPTIONS), skips it.
// The child is `up` as far as anyone can tell: same stdio, exit code, signals, and its control socket and
// `stormtunnel status` show this process's pid.
const SEMI_SPACE_FLAG = '--max-semi-space-size=1';
const SIGNALS = process.platform === 'win32' ? ['SIGINT'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
const args = process.argv.slice(2);
if (
  (args.includes('up') || args.includes('forward')) &&
  process.env.STORMTUNNEL_NO_REEXEC !== '1' &&
  !process.execArgv.some((a) => a.startsWith('--max-semi-space-size')) &&
  !(process.env.NODE_OPTIONS ?? '').includes('--max-semi-space-size')
) {
  await runChild();
} else {
  if (process.channel && process.env.STORMTUNNEL_UP_PID) reportToWrapper();
  const built = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
  const source = new URL('../src/cli/main.ts', import.meta.url);
  const fromSource = process.env.STORMTUNNEL_FROM_SOURCE ?? (existsSync(fileURLToPath(source)) ? '1' : '0');
  if (existsSync(built) && fromSource !== '1') {
    await import(pathToFileURL(built).href);
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    await import(source.href);
  }
}

/**
 * In the child: tell the wrapper about every signal we get (it forwards only those we did not get: a
 * Ctrl-C in a terminal reaches both processes, and a forwarded second one would be `up`'s "second Ctrl-C:
 * quit at once"); with no other listener, die of the signal as without this one. If the wrapper is gone
 * (killed outright), stop as on SIGTERM instead of running on.
 */
function reportToWrapper() {
  process.channel.unref();
  for (const signal of SIGNALS) {
    const onSignal = () => {
      if (process.connected) process.send(signal);
      if (process.listenerCount(signal) === 1) {
        process.off(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

/** Runs `up` in a child Node with the flag; exits as it did. */
async function runChild() {
  const child = spawn(
    process.execPath,
    [...process.execArgv, SEMI_SPACE_FLAG, fileURLToPath(import.meta.url), ...args],
    {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, STORMTUNNEL_UP_PID: String(process.pid) },
    },
  );
  child.channel?.unref();
  // When the child last reported each signal: one it got within FORWARD_WAIT_MS of ours is not forwarded.
  const FORWARD_WAIT_MS = 200;
  const reported = new Map();
  child.on('message', (m) => typeof m === 'string' && reported.set(m, Date.now()));
  const forward = (signal) => {
    const at = Date.now();
    const childGotIt = () => (reported.get(signal) ?? 0) >= at - FORWARD_WAIT_MS;
    if (childGotIt()) return;
    setTimeout(() => {
      if (!childGotIt() && child.exitCode === null && child.signalCode === null) child.kill(signal);
    }, FORWARD_WAIT_MS);
  };
  for (const s of SIGNALS) process.on(s, forward);
  const [code, signal] = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, s) => resolve([c, s]));
  });
  for (const s of SIGNALS) process.off(s, forward);
  if (signal) process.kill(process.pid, signal);
  else process.exitCode = code ?? 1;
}
