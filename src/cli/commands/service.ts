// `stormtunnel service install|uninstall|status`: the background service started at login by the user's
// service manager (a systemd user unit on Linux, a launchd agent on macOS). Windows has neither here: the
// control socket is a Unix socket, so `start` and `service` are refused there with a line that says so.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { userInfo } from 'node:os';
import { Option, type Command } from 'commander';
import { UsageError } from '../../engine/errors.js';
import { packageRoot } from '../../package-root.js';
import type { ServicePlatform, UnitFile } from '../../service/units.js';
import type { CommandRegistrar } from '../command.js';
import type { CliContext } from '../context.js';
import { printJson } from '../output.js';
import type { ServiceStatusJson } from '../service-json.js';

interface ServiceOptions {
  dryRun?: boolean;
  platform?: ServicePlatform;
  json?: boolean;
}

export const registerService: CommandRegistrar = (program: Command, run) => {
  const service = program
    .command('service')
    .description(
      'start the tunnels of this config at login (systemd user unit on Linux, launchd agent on macOS)',
    )
    .addHelpText(
      'after',
      '\nWindows is not supported: run `stormtunnel up` in a terminal (or from a Task Scheduler logon task).',
    );
  const platform = () =>
    new Option('--platform <platform>', 'write the file of this platform (with --dry-run)').choices([
      'linux',
      'darwin',
    ]);
  service
    .command('install')
    .description('write the unit for this config and start it now and at every login')
    .option('--dry-run', 'print the unit file and the commands instead of running them')
    .addOption(platform())
    .action(run(async (ctx, opts: ServiceOptions) => install(ctx, opts)));
  service
    .command('uninstall')
    .description('stop the service and remove its unit')
    .option('--dry-run', 'print the commands instead of running them')
    .addOption(platform())
    .action(run(async (ctx, opts: ServiceOptions) => uninstall(ctx, opts)));
  service
    .command('status')
    .description('whether the unit is installed and the service runs')
    .addOption(platform())
    .option('--json', 'print it as JSON (schemas/service-status.schema.json)')
    .addHelpText('after', '\nExit code 0 when the unit is installed, else 1.')
    .action(run(async (ctx, opts: ServiceOptions) => status(ctx, opts)));
};

async function unitFor(ctx: CliContext, opts: ServiceOptions): Promise<UnitFile> {
  const target = opts.platform ?? process.platform;
  if (target !== 'linux' && target !== 'darwin') {
    throw new UsageError(`stormtunnel service is not supported on ${target}`, {
      hint: 'run `stormtunnel up` in a terminal (Windows: from a Task Scheduler logon task)',
    });
  }
  if (opts.platform && opts.platform !== process.platform && !opts.dryRun)
    throw new UsageError(`--platform ${opts.platform}: only with --dry-run on ${process.platform}`);
  const { findConfigFile, instanceOf } = await import('../../service/instance.js');
  const { launchdAgent, systemdUnit } = await import('../../service/units.js');
  const { logDir } = await import('../../tunnel-control/paths.js');
  const env = ctx.io.env;
  const inst = instanceOf(findConfigFile(ctx.globals.config, ctx.io.cwd, env), env);
  const input = {
    key: inst.key,
    config: inst.config,
    node: process.execPath,
    bin: join(packageRoot(), 'bin', 'stormtunnel.js'),
    env,
    logFile: join(logDir(env, target), `service-${inst.key}.log`),
  };
  return target === 'linux' ? systemdUnit(input) : launchdAgent(input, userInfo().uid);
}

function printCommands(out: NodeJS.WritableStream, commands: string[][]): void {
  for (const c of commands) out.write(`$ ${c.join(' ')}\n`);
}

function runCommands(ctx: CliContext, commands: string[][], tolerate = false): void {
  for (const [cmd, ...args] of commands) {
    ctx.io.stderr.write(`$ ${[cmd, ...args].join(' ')}\n`);
    try {
      execFileSync(cmd!, args, { stdio: ['ignore', 'inherit', 'inherit'], env: ctx.io.env });
    } catch (err) {
      if (tolerate) continue;
      throw new UsageError(`${cmd} ${args.join(' ')} failed: ${(err as Error).message.split('\n')[0]}`, {
        hint: 'see the output above; the unit file is in place, fix and run the command yourself',
      });
    }
  }
}

async function install(ctx: CliContext, opts: ServiceOptions): Promise<number> {
  const unit = await unitFor(ctx, opts);
  if (opts.dryRun) {
    ctx.io.stderr.write(`# would write ${unit.path}:\n`);
    ctx.io.stdout.write(unit.text);
    // On stderr: stdout is the unit file alone (`> unit.service` gives a file that verifies).
    ctx.io.stderr.write('# then run:\n');
    printCommands(ctx.io.stderr, unit.install);
    return 0;
  }
  mkdirSync(dirname(unit.path), { recursive: true });
  // Atomic: a unit half-written when the manager reads it would be a broken unit.
  const tmp = `${unit.path}.${process.pid}.tmp`;
  writeFileSync(tmp, unit.text, { mode: 0o644 });
  renameSync(tmp, unit.path);
  ctx.io.stderr.write(`wrote ${unit.path}\n`);
  runCommands(ctx, unit.install);
  ctx.io.stdout.write(`installed ${unit.name}: it runs now and at every login\n`);
  if (unit.platform === 'linux')
    ctx.io.stdout.write('to keep it running after logout: loginctl enable-linger (may need sudo)\n');
  return 0;
}

async function uninstall(ctx: CliContext, opts: ServiceOptions): Promise<number> {
  const unit = await unitFor(ctx, opts);
  if (opts.dryRun) {
    printCommands(ctx.io.stdout, [...unit.uninstall, ['rm', unit.path]]);
    return 0;
  }
  if (!existsSync(unit.path)) {
    ctx.io.stderr.write(`${unit.name} is not installed (no ${unit.path})\n`);
    return 0;
  }
  // Stopping a unit that is not running is not an error here: the file goes either way.
  runCommands(ctx, unit.uninstall, true);
  rmSync(unit.path, { force: true });
  ctx.io.stdout.write(`removed ${unit.path}\n`);
  return 0;
}

async function status(ctx: CliContext, opts: ServiceOptions): Promise<number> {
  const unit = await unitFor(ctx, { ...opts, dryRun: true });
  const { findConfigFile, instanceOf, readLock } = await import('../../service/instance.js');
  const inst = instanceOf(findConfigFile(ctx.globals.config, ctx.io.cwd, ctx.io.env), ctx.io.env);
  const installed = existsSync(unit.path);
  const running = readLock(inst);
  if (opts.json) {
    const json: ServiceStatusJson = {
      platform: unit.platform,
      config: inst.config,
      unit: { name: unit.name, path: unit.path, installed },
      service: running
        ? { state: 'running', pid: running.pid, startedAt: new Date(running.startedAt).toISOString() }
        : { state: 'stopped', pid: null, startedAt: null },
      logFile: inst.logFile,
      statusCommand: unit.statusCommand,
    };
    printJson(ctx.io.stdout, json);
    return installed ? 0 : 1;
  }
  ctx.io.stdout.write(`unit: ${installed ? `installed (${unit.path})` : 'not installed'}\n`);
  ctx.io.stdout.write(`service: ${running ? `running (pid ${running.pid})` : 'not running'}\n`);
  ctx.io.stdout.write(`log: ${inst.logFile}\n`);
  if (installed) ctx.io.stdout.write(`more: ${unit.statusCommand.join(' ')}\n`);
  return installed ? 0 : 1;
}
