// `stormtunnel up [TUNNEL...]`: runs tunnels in the foreground until Ctrl-C, with a live view (or plain lines
// when not on a terminal), and answers `stormtunnel status` from other terminals over the control socket.
import type { Command } from 'commander';
import { UsageError } from '../../engine/errors.js';
import { selectTunnels } from '../../engine/tunnel-selection.js';
import type { TunnelConfig } from '../../engine/plugin.js';
import type { TunnelSet, TunnelStateChange } from '../../engine/types.js';
import type { ControlServer } from '../../tunnel-control/index.js';
import type { CommandRegistrar } from '../command.js';
import type { CliContext } from '../context.js';
import { onStdoutClosed } from '../pipe.js';
import { onStopSignal } from '../signals.js';
import { changeLine, LiveTable } from './up-view.js';

const EXAMPLE = `{ name: 'db', target: 'i-0123456789abcdef0', remotePort: 5432, localPort: 5432 }`;

export const registerUp: CommandRegistrar = (program: Command, run) => {
  program
    .command('up [tunnels...]')
    .description('start the autostart tunnels (or the named ones) and keep them up until Ctrl-C')
    .option('--no-sign-in', 'never open a browser to sign in; tunnels wait for `stormtunnel login` instead')
    .action(run(async (ctx, opts: { signIn?: boolean }, names?: string[]) => up(ctx, opts, names ?? [])));
};

async function up(ctx: CliContext, opts: { signIn?: boolean }, names: string[]): Promise<number> {
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

  return runTunnels(ctx, names.length ? { names } : {}, opts);
}

/**
 * Runs tunnels until Ctrl-C: the config's (`names`, or the autostart ones) or `tunnels` built elsewhere
 * (`stormtunnel forward`), through engine.startTunnels either way, so they behave alike. Returns the exit code.
 */
export async function runTunnels(
  ctx: CliContext,
  selection: { names?: string[]; tunnels?: TunnelConfig[] },
  opts: { signIn?: boolean },
): Promise<number> {
  // Loaded when `up` runs, not for --help (startup time).
  const { loadSharedConfig, resolveRegion } = await import('../../aws/index.js');
  const { startControlServer } = await import('../../tunnel-control/index.js');
  const { enableGarbagePacing } = await import('../../memory/garbage-pacer.js');
  // This process exists to run tunnels and its heap is small: collecting dead Buffers early is cheap here.
  enableGarbagePacing();
  const engine = await ctx.createEngine();
  await engine.start({ longRunning: true });
  const tty = Boolean(ctx.io.stderr.isTTY);
  const env = ctx.io.env;
  const set: TunnelSet = await engine.startTunnels({
    ...selection,
    allowSignIn: opts.signIn !== false && tty && engine.services.prompt.interactive,
    defaultProfile: ctx.profile,
    regionFor: async (profile) =>
      ctx.globals.region ?? resolveRegion(await loadSharedConfig({ env }), profile)?.region,
  });

  const view = tty ? new LiveTable(ctx.io.stderr, () => set.status()) : undefined;
  const say = (line: string) => (view ? view.say(line) : ctx.io.stdout.write(line + '\n'));
  let finish: (code: number) => void = () => undefined;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  // `stormtunnel up | head -1`: the reader is gone; stop as on Ctrl-C (exit 0, sessions terminated).
  const offClosed = onStdoutClosed(() => finish(0));
  const onChange = (change: TunnelStateChange): void => {
    const status = set.status().find((s) => s.name === change.tunnel);
    // On a terminal the table shows states; only problems get a line of their own there.
    if (!view || change.state === 'failed' || change.state === 'waiting-for-sign-in')
      say(changeLine(change, status));
    const all = set.status();
    // Every tunnel failed: the exit code of their class when they share one (8 target, 4 denied...), else 1.
    if (all.length > 0 && all.every((s) => s.state === 'failed')) {
      const codes = new Set(all.map((s) => s.exitCode ?? 1));
      finish(codes.size === 1 ? [...codes][0]! : 1);
    }
  };
  const unsubscribe = set.onChange(onChange);
  // The tunnels started inside startTunnels, before this subscription: their first change (connecting, or
  // an early failure) already happened, so each one's state so far is reported here.
  for (const s of set.status()) {
    onChange({
      tunnel: s.name,
      state: s.state,
      previous: undefined,
      ...(s.detail ? { detail: s.detail } : {}),
    });
  }

  let control: ControlServer | undefined;
  try {
    control = await startControlServer({ env, status: () => set.status(), logger: ctx.logger });
  } catch (err) {
    ctx.logger.warn(`stormtunnel status will not see these tunnels: ${(err as Error).message}`);
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

  // On a terminal the line replaces the "^C" the terminal echoed, so it starts its own line.
  const erase = view ? '\r\x1b[K' : '';
  if (code === 0) say(`${erase}stopping: terminating the sessions of ${set.status().length} tunnel(s)`);
  else say('stormtunnel: every tunnel failed; nothing left to run');
  unsubscribe();
  await set.stop();
  view?.stop();
  await control?.close();
  await engine.shutdown({ reason: code === 0 ? 'signal' : 'error' });
  releaseSignals();
  if (code === 0) ctx.io.stdout.write('stopped\n');
  return code;
}
