// `stormtunnel ssh-proxy TARGET [PORT]`: OpenSSH's ProxyCommand. The SSH connection travels over stdin and
// stdout (AWS-StartSSHSession, basic mode), so nothing else may ever reach stdout: messages and progress go to
// stderr, and sign-in questions to the terminal (/dev/tty), never to the SSH stream.
import { openSync } from 'node:fs';
import { ReadStream, WriteStream } from 'node:tty';
import type { Command } from 'commander';
import type { TunnelConfig } from '../../engine/plugin.js';
import type { StreamSession } from '../../engine/types.js';
import { createProgress, createTerminalPrompt } from '../../terminal/prompt.js';
import type { CommandRegistrar } from '../command.js';
import type { CliContext } from '../context.js';
import { onStdoutClosed } from '../pipe.js';
import { onStopSignal } from '../signals.js';
import { parsePortArgument } from './port-argument.js';

export const SSH_DEFAULT_PORT = 22;
/** A session that opens this fast needs no progress line (ssh's own output stays clean). */
const PROGRESS_AFTER_MS = 1000;

export const registerSshProxy: CommandRegistrar = (program: Command, run) => {
  program
    .command('ssh-proxy <target> [port]')
    .description('carry an SSH connection over Session Manager on stdin/stdout (OpenSSH ProxyCommand)')
    .option('--no-sign-in', 'never start a sign-in; fail when the SSO sign-in has expired')
    .addHelpText(
      'after',
      `
TARGET is the name of a tunnel of the config (its target, profile and region) or
a target as a config writes one: an instance id, a Name tag (bastion),
tag:Key=Value or ecs:CLUSTER/SERVICE. PORT is sshd's port on the instance
(default ${SSH_DEFAULT_PORT}).

In ~/.ssh/config:
  Host i-* mi-*
    ProxyCommand stormtunnel ssh-proxy %h %p`,
    )
    .action(
      // Commander passes each positional as given: a string, or undefined for a missing optional one.
      run(async (ctx, opts: { signIn?: boolean }, ...args: unknown[]) =>
        sshProxy(ctx, opts, args[0] as string, args[1] as string | undefined),
      ),
    );
};

async function sshProxy(
  ctx: CliContext,
  opts: { signIn?: boolean },
  target: string,
  portArg: string | undefined,
): Promise<number> {
  const port = portArg === undefined ? SSH_DEFAULT_PORT : parsePortArgument('PORT', portArg);
  const tunnel = await sshTunnel(ctx, target, port);
  const terminal = openTerminal();
  try {
    if (terminal) ctx.useServices({ prompt: createTerminalPrompt(terminal) });
    const { loadSharedConfig, resolveRegion } = await import('../../aws/index.js');
    const engine = await ctx.createEngine();
    // Long-running: the sso plugin's monitor refreshes the sign-in before it expires, so an SSH connection
    // of hours resumes with fresh credentials.
    await engine.start({ longRunning: true });
    const env = ctx.io.env;
    const progress = delayedProgress(ctx, `connecting to ${tunnel.target}:${port} over Session Manager`);
    let session: StreamSession;
    try {
      session = await engine.openStream({
        tunnel,
        service: 'ssh',
        allowSignIn: opts.signIn !== false && Boolean(terminal),
        defaultProfile: ctx.profile,
        regionFor: async (profile) =>
          ctx.globals.region ?? resolveRegion(await loadSharedConfig({ env }), profile)?.region,
      });
    } finally {
      progress.stop();
    }
    ctx.logger.debug(`ssh-proxy: session ${session.sessionId} open`);
    return await carry(ctx, session);
  } finally {
    terminal?.input.destroy();
    terminal?.output.destroy();
  }
}

/** The connection: TARGET is a config tunnel's name (its target, profile, region) or a target as given. */
async function sshTunnel(ctx: CliContext, target: string, port: number): Promise<TunnelConfig> {
  // Loaded when the command runs: the config's patterns bring zod, which --help does not need.
  const { parseTargetArgument } = await import('./target-argument.js');
  parseTargetArgument(target, true);
  const config = await ctx.loadConfig();
  const named = config.tunnels.find((t) => t.name === target);
  return {
    name: named?.name ?? 'ssh-proxy',
    profile: named?.profile,
    region: named?.region,
    // Symbolic targets (tag:...) go to the engine as they are: its prepare path resolves them.
    target: named?.target ?? target,
    remotePort: port,
    localPort: 0,
    remoteHost: undefined,
    bindAddress: '127.0.0.1',
    autostart: false,
  };
}

/**
 * stdin -> session -> stdout until either side ends: ssh closing our stdin ends the session (TerminateSession,
 * like a tunnel's stop); the service ending it ends our stdout, and ssh sees the connection close.
 */
async function carry(ctx: CliContext, session: StreamSession): Promise<number> {
  const { stream } = session;
  const stdin = process.stdin;
  const stdout = ctx.io.stdout;
  stream.on('error', (err: Error) => ctx.logger.debug(`ssh-proxy: ${err.message}`));
  stdin.pipe(stream);
  stream.pipe(stdout, { end: false });
  // ssh closed our stdin: its connection is over; the session follows once what we sent is on its way.
  const stopAfterInput = () => void session.stop();
  stream.once('finish', stopAfterInput);
  const offSignals = onStopSignal(() => void session.stop());
  const offClosed = onStdoutClosed(() => void session.stop());
  const end = await session.ended;
  offSignals();
  offClosed();
  stdin.unpipe(stream);
  stdin.destroy();
  await new Promise<void>((resolve) => stdout.write('', () => resolve()));
  if (end.how === 'failed') throw end.error;
  return 0;
}

/** /dev/tty for sign-in questions, when there is one (ssh runs us with pipes, the terminal stays ours). */
function openTerminal(): { input: ReadStream; output: WriteStream } | undefined {
  try {
    const input = new ReadStream(openSync('/dev/tty', 'r'));
    const output = new WriteStream(openSync('/dev/tty', 'w'));
    // Not a reason to stay alive: only a question reads from it.
    input.unref?.();
    return { input, output };
  } catch {
    return undefined;
  }
}

/** A progress line on a terminal stderr, only once the wait is long enough to be worth one. */
function delayedProgress(ctx: CliContext, text: string): { stop(): void } {
  if (!ctx.io.stderr.isTTY) return { stop: () => undefined };
  let handle: ReturnType<typeof createProgress> | undefined;
  const timer = setTimeout(() => (handle = createProgress(ctx.io.stderr, text)), PROGRESS_AFTER_MS);
  timer.unref();
  return {
    stop() {
      clearTimeout(timer);
      handle?.stop();
    },
  };
}
