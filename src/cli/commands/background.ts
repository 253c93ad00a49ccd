// `stormtunnel start|stop|restart|logs`: `up` as a background service of the current config (one per
// config), its log in the user's state folder. `start` returns once the tunnels are ready or failed.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  unwatchFile,
  watchFile,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { StormtunnelError, UsageError } from '../../engine/errors.js';
import { packageRoot } from '../../package-root.js';
import type { Instance } from '../../service/instance.js';
import type { CommandRegistrar } from '../command.js';
import type { CliContext } from '../context.js';
import { printJson } from '../output.js';
import { onStdoutClosed } from '../pipe.js';
import type { StartJson } from '../service-json.js';
import { onStopSignal } from '../signals.js';

/** How long `stop` waits: the service's own stop plus the 15 s a refresh token being written may take. */
const STOP_WAIT_MS = 30_000;

export const registerBackground: CommandRegistrar = (program: Command, run) => {
  program
    .command('start [tunnels...]')
    .description('start the tunnels in the background (one service per config); returns once they are ready')
    .option('--timeout <seconds>', 'how long to wait for the tunnels to be ready', '120')
    .option('--json', 'print the outcome and the tunnels as JSON (schemas/start.schema.json)')
    .addHelpText(
      'after',
      '\nExit code 0 when every tunnel is ready (or waits for a sign-in or a connection), 1 when one failed.\nThe service keeps running either way: stormtunnel logs, stormtunnel stop.',
    )
    .action(run(async (ctx, opts: StartOptions, names?: string[]) => start(ctx, names ?? [], opts)));
  program
    .command('stop')
    .description('stop the background service of this config (its sessions are terminated)')
    .action(run(async (ctx) => stop(ctx)));
  program
    .command('restart [tunnels...]')
    .description('stop the background service of this config and start it again (same tunnels unless named)')
    .option('--timeout <seconds>', 'how long to wait for the tunnels to be ready', '120')
    .option('--json', 'print the outcome and the tunnels as JSON (schemas/start.schema.json)')
    .action(
      run(async (ctx, opts: StartOptions, names?: string[]) => {
        const { readLock } = await import('../../service/instance.js');
        const previous = readLock(await instance(ctx));
        await stop(ctx);
        return start(ctx, names?.length ? names : (previous?.tunnels ?? []), opts);
      }),
    );
  program
    .command('logs')
    .description("print the background service's log")
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .option('-n, --lines <count>', 'how many of the last lines to print', '100')
    .option('--tunnel <name>', 'only the lines about this tunnel')
    .action(run(async (ctx, opts: LogsOptions) => logs(ctx, opts)));
};

interface StartOptions {
  timeout: string;
  json?: boolean;
}

async function instance(ctx: CliContext): Promise<Instance> {
  const { findConfigFile, instanceOf } = await import('../../service/instance.js');
  return instanceOf(findConfigFile(ctx.globals.config, ctx.io.cwd, ctx.io.env), ctx.io.env);
}

function seconds(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${option}: "${value}" is not a number of seconds`);
  return n * 1000;
}

/** The global options the service runs with (the config is passed by its real path). */
function globalArgs(ctx: CliContext, config: string): string[] {
  const g = ctx.globals;
  return [
    '--config',
    config,
    ...(g.profile ? ['--profile', g.profile] : []),
    ...(g.region ? ['--region', g.region] : []),
    ...(g.verbose ? ['--verbose'] : []),
    ...(g.logFormat && g.logFormat !== 'pretty' ? ['--log-format', g.logFormat] : []),
  ];
}

async function start(ctx: CliContext, names: string[], opts: StartOptions): Promise<number> {
  if (process.platform === 'win32') {
    // The control socket is a Unix socket, and there is no detaching from a console the same way.
    throw new UsageError('the background service is not supported on Windows', {
      hint: 'run `stormtunnel up` in a terminal (or from a Task Scheduler logon task)',
    });
  }
  const timeoutMs = seconds(opts.timeout, '--timeout');
  const env = ctx.io.env;
  const inst = await instance(ctx);
  const { alreadyRunning, readLock } = await import('../../service/instance.js');
  const holder = readLock(inst);
  if (holder) throw alreadyRunning(inst, holder);
  const { runningUpsOf, socketPath } = await import('../../tunnel-control/index.js');
  const foreground = (await runningUpsOf(env, inst.config)).find((p) => !p.service);
  if (foreground) {
    throw new UsageError(`stormtunnel up already runs for ${inst.config} (pid ${foreground.pid})`, {
      hint: 'stop it (Ctrl-C in its terminal) before starting the background service',
    });
  }

  const { rotateLog } = await import('../../service/log-file.js');
  mkdirSync(dirname(inst.logFile), { recursive: true, mode: 0o700 });
  rotateLog(inst.logFile);
  // O_APPEND: the service writes its stdout and stderr here, and rotation truncates it in place.
  const fd = openSync(inst.logFile, 'a', 0o600);
  const from = statSync(inst.logFile).size;
  writeSync(
    fd,
    `${new Date().toISOString()} starting: ${inst.config}${names.length ? ` (${names.join(', ')})` : ''}\n`,
  );
  ctx.io.stderr.write(`⏳ starting the tunnels of ${inst.config} in the background\n`);
  const child = spawn(
    process.execPath,
    [
      join(packageRoot(), 'bin', 'stormtunnel.js'),
      ...globalArgs(ctx, inst.config),
      'up',
      '--service',
      ...names,
    ],
    {
      cwd: dirname(inst.config),
      // Its own process group and session: the terminal's Ctrl-C and hang-up do not reach it.
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...env, STORMTUNNEL_SERVICE_LOG: inst.logFile, STORMTUNNEL_UP_PID: '' },
    },
  );
  closeSync(fd);
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.once('error', () => resolve(1));
  });
  child.unref();
  const pid = child.pid!;

  const { tunnelLine, waitForTunnels } = await import('../../service/readiness.js');
  const result = await waitForTunnels({ socket: socketPath(env, pid), timeoutMs, exited });
  const failed = result.kind !== 'exited' && result.tunnels.some((t) => t.state === 'failed');
  if (opts.json) {
    const { tunnelJson } = await import('../status-json.js');
    const outcome = result.kind === 'settled' ? (failed ? 'failed' : 'ready') : result.kind;
    const json: StartJson = {
      outcome,
      ok: outcome === 'ready',
      pid,
      config: inst.config,
      logFile: inst.logFile,
      tunnels: result.kind === 'exited' ? [] : result.tunnels.map(tunnelJson),
    };
    printJson(ctx.io.stdout, json);
  }
  if (result.kind === 'exited') {
    // It ended before its tunnels were up (a config error, a busy port, another service): its own words.
    const said = readFileSync(inst.logFile)
      .subarray(from)
      .toString('utf8')
      .split('\n')
      .slice(1)
      .filter(Boolean);
    for (const line of said.slice(-10)) ctx.io.stderr.write(line + '\n');
    const code = await exited;
    return code === 0 ? 1 : code;
  }
  if (!opts.json) for (const t of result.tunnels) ctx.io.stdout.write(tunnelLine(t) + '\n');
  if (result.kind === 'timeout') {
    ctx.io.stderr.write(
      `stormtunnel: the tunnels are not ready after ${opts.timeout} s; the service keeps trying (pid ${pid}): stormtunnel logs -f\n`,
    );
    return 1;
  }
  ctx.io.stderr.write(`started (pid ${pid}); log: ${inst.logFile}\n`);
  return failed ? 1 : 0;
}

async function stop(ctx: CliContext): Promise<number> {
  const inst = await instance(ctx);
  const { isAlive, readLock } = await import('../../service/instance.js');
  const holder = readLock(inst);
  if (!holder) {
    ctx.io.stderr.write(`no stormtunnel service runs for ${inst.config}\n`);
    return 0;
  }
  ctx.io.stderr.write(`⏳ stopping the service of ${inst.config} (pid ${holder.pid})\n`);
  // As systemd and launchd stop it: SIGTERM, which `up` takes as its Ctrl-C (sessions terminated).
  process.kill(holder.pid, 'SIGTERM');
  const end = Date.now() + STOP_WAIT_MS;
  while (isAlive(holder.pid)) {
    if (Date.now() > end) {
      // Its process group: the wrapper and the Node that runs `up` (bin/stormtunnel.js).
      process.kill(-holder.pid, 'SIGKILL');
      throw new StormtunnelError(`the service did not stop within ${STOP_WAIT_MS / 1000} s and was killed`, {
        hint: `see why in ${inst.logFile}`,
      });
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  ctx.io.stderr.write('stopped\n');
  return 0;
}

interface LogsOptions {
  follow?: boolean;
  lines: string;
  tunnel?: string;
}

async function logs(ctx: CliContext, opts: LogsOptions): Promise<number> {
  const count = Number(opts.lines);
  if (!Number.isInteger(count) || count < 0)
    throw new UsageError(`--lines: "${opts.lines}" is not a count of lines`);
  const inst = await instance(ctx);
  if (!existsSync(inst.logFile)) {
    throw new StormtunnelError(`no service log for ${inst.config} yet (${inst.logFile})`, {
      hint: 'stormtunnel start writes it',
    });
  }
  const wanted = (line: string) =>
    !opts.tunnel || line.includes(`tunnel ${opts.tunnel}:`) || line.includes(`"tunnel":"${opts.tunnel}"`);
  const text = readFileSync(inst.logFile, 'utf8');
  let position = Buffer.byteLength(text);
  const lines = text.split('\n').slice(0, -1).filter(wanted);
  for (const line of count === 0 ? [] : lines.slice(-count)) ctx.io.stdout.write(line + '\n');
  if (!opts.follow) return 0;

  let partial = '';
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const read = () => {
    const size = statSync(inst.logFile, { throwIfNoEntry: false })?.size ?? 0;
    if (size < position) position = 0; // rotated (truncated in place): read it from its start
    if (size === position) return;
    const fd = openSync(inst.logFile, 'r');
    const buf = Buffer.alloc(size - position);
    readSync(fd, buf, 0, buf.length, position);
    closeSync(fd);
    position = size;
    const chunk = partial + buf.toString('utf8');
    const parts = chunk.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts.filter(wanted)) ctx.io.stdout.write(line + '\n');
  };
  // Polled: works the same across rotation, on every platform and file system.
  watchFile(inst.logFile, { interval: 250 }, read);
  const offClosed = onStdoutClosed(finish);
  const release = onStopSignal(finish);
  await finished;
  unwatchFile(inst.logFile, read);
  offClosed();
  release();
  return 0;
}
