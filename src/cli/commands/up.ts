// `stormtunnel up [TUNNEL...]`: runs tunnels in the foreground until Ctrl-C, with a live view (or plain lines
// when not on a terminal), and is controlled from other terminals over the control socket (`status`,
// `tunnel up|down`, `reload`). It reloads its config when the file changes. `up --service` is the background
// service (`stormtunnel start`, the systemd and launchd units): one per config, lines with times.
import { realpathSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../../engine/errors.js';
import { selectTunnels } from '../../engine/tunnel-selection.js';
import type { TunnelConfig } from '../../engine/plugin.js';
import type { Settings, TunnelStateChange } from '../../engine/types.js';
import type { ControlServer } from '../../tunnel-control/index.js';
import type { CommandRegistrar } from '../command.js';
import type { CliContext } from '../context.js';
import { onStdoutClosed } from '../pipe.js';
import { onStopSignal } from '../signals.js';
import { changeLine, LiveTable } from './up-view.js';

const EXAMPLE = `{ name: 'db', target: 'i-0123456789abcdef0', remotePort: 5432, localPort: 5432 }`;

interface UpOptions {
  signIn?: boolean;
  service?: boolean;
  watch?: boolean;
}

export const registerUp: CommandRegistrar = (program: Command, run) => {
  program
    .command('up [tunnels...]')
    .description('start the autostart tunnels (or the named ones) and keep them up until Ctrl-C')
    .option('--no-sign-in', 'never open a browser to sign in; tunnels wait for `stormtunnel login` instead')
    .option('--no-watch', 'do not reload the config when its file changes (`stormtunnel reload` still does)')
    .option(
      '--service',
      'run as the background service: one per config, lines with times (used by `start` and the units)',
    )
    .action(run(async (ctx, opts: UpOptions, names?: string[]) => up(ctx, opts, names ?? [])));
};

async function up(ctx: CliContext, opts: UpOptions, names: string[]): Promise<number> {
  const env = ctx.io.env;
  let releaseLock: (() => void) | undefined;
  let stopRotation: (() => void) | undefined;
  if (opts.service) {
    // Taken before anything starts: a second service of this config stops here with the line naming the first.
    const { acquireLock, findConfigFile, instanceOf } = await import('../../service/instance.js');
    const { upPid } = await import('../../tunnel-control/paths.js');
    const instance = instanceOf(findConfigFile(ctx.globals.config, ctx.io.cwd, env), env);
    releaseLock = acquireLock(instance, upPid(env), names);
    if (env.STORMTUNNEL_SERVICE_LOG) {
      const { keepLogRotated } = await import('../../service/log-file.js');
      stopRotation = keepLogRotated(env.STORMTUNNEL_SERVICE_LOG);
    }
  }
  try {
    return await runConfigTunnels(ctx, opts, names);
  } finally {
    stopRotation?.();
    releaseLock?.();
  }
}

async function runConfigTunnels(ctx: CliContext, opts: UpOptions, names: string[]): Promise<number> {
  const config = await ctx.loadConfig();
  if (config.tunnels.length === 0) {
    throw new UsageError(`no tunnels in ${config.file ?? 'the config (no stormtunnel.config.* found)'}`, {
      hint: `add one to \`tunnels\` in stormtunnel.config.ts, e.g. ${EXAMPLE}`,
    });
  }
  // Checked before anything starts; engine.startTunnels would refuse the same names with the same line.
  const selected = names.length
    ? selectTunnels(config.tunnels, names, config.file)
    : config.tunnels.filter((t) => t.autostart);
  if (selected.length === 0) {
    throw new UsageError('no tunnel has autostart', {
      hint: `name the ones to start: stormtunnel up ${config.tunnels[0]!.name}`,
    });
  }

  const { assertLocalPortsFree, assertProfilesUsable } = await import('../preflight.js');
  await assertProfilesUsable(
    ctx,
    selected.map((t) => t.profile ?? ctx.profile),
  );
  await assertLocalPortsFree(ctx, selected, { onlyHeldByUp: true });
  return runTunnels(ctx, {
    defs: config.tunnels,
    selected: selected.map((t) => t.name),
    // Without names, tunnels a reload adds with autostart are started too.
    followAutostart: names.length === 0,
    config: { file: config.file ? realpathSync(config.file) : undefined, settings: config.settings },
    opts,
  });
}

export interface RunTunnelsOptions {
  /** The tunnel definitions: the config's, or the one `stormtunnel forward` builds from the command line. */
  defs: readonly TunnelConfig[];
  /** The names to start now. */
  selected: readonly string[];
  followAutostart: boolean;
  /** Where the definitions came from, for reloads; none for a tunnel from the command line. */
  config?: { file: string | undefined; settings: Settings };
  opts: UpOptions;
}

/**
 * Runs tunnels until Ctrl-C through engine.startTunnels, with the live view, the control socket (`status`,
 * `tunnel up|down`, `reload`) and, for a config file, reloads: `up`, the background service and
 * `stormtunnel forward` alike. Returns the exit code.
 */
export async function runTunnels(ctx: CliContext, run: RunTunnelsOptions): Promise<number> {
  const { opts } = run;
  // Loaded when `up` runs, not for --help (startup time).
  const { loadSharedConfig, resolveRegion } = await import('../../aws/index.js');
  const { startControlServer } = await import('../../tunnel-control/index.js');
  const { enableGarbagePacing } = await import('../../memory/garbage-pacer.js');
  const { TunnelManager } = await import('../../service/tunnel-manager.js');
  // This process exists to run tunnels and its heap is small: collecting dead Buffers early is cheap here.
  enableGarbagePacing();
  const engine = await ctx.createEngine();
  await engine.start({ longRunning: true });
  const tty = Boolean(ctx.io.stderr.isTTY) && !opts.service;
  const env = ctx.io.env;

  // Set before the first tunnel starts (their first changes are reported through `say`).
  let view: LiveTable | undefined = undefined;
  // The service's lines go to a log file read later: each one says when.
  const say = (line: string) =>
    view
      ? view.say(line)
      : ctx.io.stdout.write(`${opts.service ? `${new Date().toISOString()} ` : ''}${line}\n`);
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  // `stormtunnel up | head -1`: the reader is gone; stop as on Ctrl-C (exit 0, sessions terminated).
  const offClosed = onStdoutClosed(() => finish(0));

  // Set when everything stops: the "stopping" and "stopped" lines say it once, not a line per tunnel.
  let stoppingAll = false;
  const onChange = (change: TunnelStateChange): void => {
    if (stoppingAll && change.state === 'stopped') return;
    const status = tunnels.status().find((s) => s.name === change.tunnel);
    // On a terminal the table shows states; only problems get a line of their own there.
    if (!view || change.state === 'failed' || change.state === 'waiting-for-sign-in')
      say(changeLine(change, status));
    const all = tunnels.status();
    // Every tunnel failed: the exit code of their class when they share one (8 target, 4 denied...), else 1.
    // The service keeps running instead: a corrected config (reload) or `tunnel up` brings them back.
    if (!opts.service && all.length > 0 && all.every((s) => s.state === 'failed')) {
      const codes = new Set(all.map((s) => s.exitCode ?? 1));
      finish(codes.size === 1 ? [...codes][0]! : 1);
    }
  };
  const tunnels = new TunnelManager(
    run.defs,
    (name, defs) =>
      engine.startTunnels({
        names: [name],
        tunnels: defs,
        allowSignIn: opts.signIn !== false && tty && engine.services.prompt.interactive,
        defaultProfile: ctx.profile,
        regionFor: async (profile) =>
          ctx.globals.region ?? resolveRegion(await loadSharedConfig({ env }), profile)?.region,
      }),
    onChange,
    run.followAutostart,
  );
  view = tty ? new LiveTable(ctx.io.stderr, () => tunnels.status()) : undefined;
  await tunnels.start(run.selected);

  const configFile = run.config?.file;
  const { reloadConfig, describeError } = await import('../../service/reload.js');
  const reload = async () => {
    if (!run.config)
      throw new UsageError(
        'nothing to reload: this tunnel was given on the command line (stormtunnel forward)',
        {
          hint: 'stop it with Ctrl-C and run stormtunnel forward again with the new values',
        },
      );
    return reloadConfig({ ctx, file: configFile, tunnels, settings: run.config.settings });
  };

  let control: ControlServer | undefined;
  try {
    control = await startControlServer({
      env,
      status: () => tunnels.status(),
      logger: ctx.logger,
      ...(configFile ? { config: configFile } : {}),
      ...(opts.service ? { service: true } : {}),
      handlers: {
        tunnelUp: async (name) => {
          const changed = await tunnels.up(name);
          if (changed) say(`tunnel ${name}: started on request`);
          return changed;
        },
        tunnelDown: async (name) => {
          const changed = await tunnels.down(name);
          if (changed) say(`tunnel ${name}: stopped on request`);
          return changed;
        },
        reload: async () => {
          const changes = await reload().catch((err: unknown) => {
            say(`config reload refused, the running tunnels are unchanged: ${describeError(err).message}`);
            throw err;
          });
          say(`config reloaded: ${summary(changes)}`);
          return changes;
        },
        describeError,
      },
    });
  } catch (err) {
    ctx.logger.warn(`stormtunnel status will not see these tunnels: ${(err as Error).message}`);
  }

  // An edited config is applied as `stormtunnel reload` would; a broken one leaves the tunnels running.
  let stopWatching: (() => void) | undefined;
  if (configFile && opts.watch !== false) {
    const { watchConfigFile } = await import('../../service/config-watch.js');
    stopWatching = watchConfigFile(
      configFile,
      () =>
        void reload().then(
          (changes) => say(`config changed, reloaded: ${summary(changes)}`),
          (err: unknown) =>
            say(
              `config changed but not reloaded, the running tunnels are unchanged: ${describeError(err).message}`,
            ),
        ),
      (err) => ctx.logger.warn(`config changes will not be picked up: ${err.message}`),
    );
  }
  view?.start();

  // The first Ctrl-C (or SIGTERM, SIGHUP) stops the tunnels; a second one quits at once, once a refresh
  // token being written is on disk (src/cli/signals.ts).
  const releaseSignals = onStopSignal((signal) => {
    ctx.logger.debug(`${signal}: stopping`);
    finish(0);
  });
  const code = await finished;
  offClosed();
  stopWatching?.();

  // On a terminal the line replaces the "^C" the terminal echoed, so it starts its own line.
  const erase = view ? '\r\x1b[K' : '';
  if (code === 0) say(`${erase}stopping: terminating the sessions of ${tunnels.status().length} tunnel(s)`);
  else say('stormtunnel: every tunnel failed; nothing left to run');
  stoppingAll = true;
  await tunnels.stopAll();
  view?.stop();
  await control?.close();
  await engine.shutdown({ reason: code === 0 ? 'signal' : 'error' });
  releaseSignals();
  if (code === 0) say('stopped');
  return code;
}

function summary(c: { started: string[]; stopped: string[]; restarted: string[] }): string {
  const parts = [
    c.started.length ? `started ${c.started.join(', ')}` : '',
    c.stopped.length ? `stopped ${c.stopped.join(', ')}` : '',
    c.restarted.length ? `restarted ${c.restarted.join(', ')}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join('; ') : 'no tunnel changed';
}
