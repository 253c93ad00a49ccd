// `stormtunnel tunnel up|down NAME` and `stormtunnel reload`: commands to the running `up` (foreground or
// background service) of this config, over its control socket. The other tunnels keep their sessions.
import type { Command } from 'commander';
import { StormtunnelError, UsageError } from '../../engine/errors.js';
import type { ControlRequest, RunningProcess } from '../../tunnel-control/index.js';
import type { CommandRegistrar } from '../command.js';
import type { CliContext } from '../context.js';
import { printJson } from '../output.js';
import type { ControlJson } from '../service-json.js';

/** A reload bundles and validates the config again before answering. */
const COMMAND_TIMEOUT_MS = 60_000;
const SETTLE_TIMEOUT_MS = 60_000;
const JSON_HELP = 'print what changed and the tunnels as JSON (schemas/control.schema.json)';

interface ControlOptions {
  json?: boolean;
}

export const registerTunnel: CommandRegistrar = (program: Command, run) => {
  const tunnel = program
    .command('tunnel')
    .description('bring one tunnel of the running `up` or service up or down; the others are not touched');
  tunnel
    .command('up <name>')
    .description('start a tunnel of the config in the running `up` or service')
    .option('--json', JSON_HELP)
    .action(
      run(async (ctx, opts: ControlOptions, name) =>
        command(ctx, { op: 'tunnel-up', tunnel: String(name) }, opts),
      ),
    );
  tunnel
    .command('down <name>')
    .description('stop one tunnel (its sessions terminated, its port closed)')
    .option('--json', JSON_HELP)
    .action(
      run(async (ctx, opts: ControlOptions, name) =>
        command(ctx, { op: 'tunnel-down', tunnel: String(name) }, opts),
      ),
    );
  program
    .command('reload')
    .description(
      'apply the edited config to the running `up` or service: tunnels added, removed or changed are started, stopped or restarted',
    )
    .addHelpText(
      'after',
      '\nA config with an error is refused with the error; the running tunnels stay as they are.',
    )
    .option('--json', JSON_HELP)
    .action(run(async (ctx, opts: ControlOptions) => command(ctx, { op: 'reload' }, opts)));
};

async function runningOf(ctx: CliContext): Promise<{ config: string; processes: RunningProcess[] }> {
  const { findConfigFile } = await import('../../service/instance.js');
  const { runningUpsOf } = await import('../../tunnel-control/index.js');
  const config = findConfigFile(ctx.globals.config, ctx.io.cwd, ctx.io.env);
  const processes = await runningUpsOf(ctx.io.env, config);
  if (!processes.length) {
    throw new StormtunnelError(`no stormtunnel up or service runs for ${config}`, {
      hint: 'stormtunnel start (background) or stormtunnel up (this terminal)',
    });
  }
  return { config, processes };
}

async function command(
  ctx: CliContext,
  request: Exclude<ControlRequest, { op: 'status' }>,
  opts: ControlOptions,
): Promise<number> {
  const { processes } = await runningOf(ctx);
  const { sendControl } = await import('../../tunnel-control/index.js');
  const { tunnelLine, waitForTunnels } = await import('../../service/readiness.js');
  const { tunnelJson } = await import('../status-json.js');
  // With --json, stdout is the one document at the end; the lines for people are left out.
  const out = opts.json ? undefined : ctx.io.stdout;
  const json: ControlJson = { op: request.op, processes: [] };
  for (const p of processes) {
    const { response } = await sendControl(p.socket, request, COMMAND_TIMEOUT_MS);
    if (!response) throw new StormtunnelError(`stormtunnel up (pid ${p.pid}) did not answer`);
    // The process's own words for a refused command (unknown tunnel, config error): exit 2 like the command.
    if (!response.ok) throw new UsageError(response.error, response.hint ? { hint: response.hint } : {});
    const entry: ControlJson['processes'][number] = {
      pid: p.pid,
      service: Boolean(p.service),
      ...(request.op === 'reload'
        ? { changes: response.changes ?? { started: [], stopped: [], restarted: [] } }
        : { changed: Boolean(response.changed) }),
      tunnels: [],
    };
    json.processes.push(entry);
    if (request.op === 'tunnel-down') {
      out?.write(`tunnel ${request.tunnel}: ${response.changed ? 'stopped' : 'was not running'}\n`);
      continue;
    }
    const names =
      request.op === 'tunnel-up'
        ? [request.tunnel]
        : [...(response.changes?.started ?? []), ...(response.changes?.restarted ?? [])];
    if (request.op === 'reload') {
      const c = response.changes;
      for (const n of c?.stopped ?? []) out?.write(`tunnel ${n}: stopped (removed from the config)\n`);
      if (!names.length && !c?.stopped.length) out?.write('no tunnel changed\n');
    }
    if (!names.length) continue;
    ctx.io.stderr.write(`⏳ waiting for ${names.join(', ')}\n`);
    const result = await waitForTunnels({ socket: p.socket, names, timeoutMs: SETTLE_TIMEOUT_MS });
    if (result.kind === 'exited') continue;
    entry.tunnels = result.tunnels.map(tunnelJson);
    for (const t of result.tunnels)
      out?.write(
        tunnelLine(t) +
          (request.op === 'reload' && response.changes?.restarted.includes(t.name) ? ' (restarted)' : '') +
          '\n',
      );
  }
  if (opts.json) printJson(ctx.io.stdout, json);
  return 0;
}
