// Invalid input that stops `check` and `up` before they call AWS or start anything: the profiles the tunnels
// use (the same check `login` and `credential-process` make) and their local ports. One place, so both
// commands print the same line and exit 2 for the same mistake.
import { createServer } from 'node:net';
import { portInUse, type PortHolder } from '../engine/classify.js';
import { UsageError } from '../engine/errors.js';
import type { TunnelConfig } from '../engine/plugin.js';
import { queryRunningUp } from '../tunnel-control/index.js';
import type { CliContext } from './context.js';

/** Throws the first problem of the profiles (in order) that stops them from giving credentials. */
export async function assertProfilesUsable(ctx: CliContext, profiles: Iterable<string>): Promise<void> {
  for (const profile of new Set(profiles)) await ctx.assertProfile(profile);
}

/**
 * Binds each tunnel's local port on its bindAddress and releases it at once; a port in use is invalid input
 * naming the port, the tunnel and the fix, and the other `stormtunnel up` when one holds it.
 * `onlyHeldByUp`: `up` stops here only for a port another `up` serves (the same tunnels started twice); a
 * port another program holds fails that one tunnel when it listens (same words), and the others still run.
 */
export async function assertLocalPortsFree(
  ctx: CliContext,
  tunnels: readonly TunnelConfig[],
  options: { onlyHeldByUp?: boolean } = {},
): Promise<void> {
  for (const t of tunnels) {
    // 0: the system picks a free port, nothing to test.
    if (t.localPort === 0) continue;
    const err = await tryBind(t.localPort, t.bindAddress);
    if (!err) continue;
    if (err.code !== 'EADDRINUSE') throw err;
    const heldBy = await upHolding(ctx, t.bindAddress, t.localPort);
    if (!heldBy && options.onlyHeldByUp) continue;
    const { detail, next } = portInUse({
      port: t.localPort,
      host: t.bindAddress,
      tunnel: t.name,
      ...(heldBy ? { heldBy } : {}),
    });
    throw new UsageError(detail, { hint: next, cause: err });
  }
}

function tryBind(port: number, host: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    // exclusive, as the tunnel's own listener: a port shared through cluster would hide the conflict.
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** The running `stormtunnel up` (of this user) whose tunnel listens on host:port, if any. */
async function upHolding(ctx: CliContext, host: string, port: number): Promise<PortHolder | undefined> {
  const running = await queryRunningUp(ctx.io.env).catch(() => undefined);
  for (const p of running?.processes ?? []) {
    const t = p.tunnels.find((x) => x.localAddress !== undefined && listensOn(x.localAddress, host, port));
    if (t) return { pid: p.pid, tunnel: t.name };
  }
  return undefined;
}

function listensOn(localAddress: string, host: string, port: number): boolean {
  const i = localAddress.lastIndexOf(':');
  const h = localAddress.slice(0, i).replace(/^\[|\]$/g, '');
  const wildcard = ['0.0.0.0', '::'];
  return (
    Number(localAddress.slice(i + 1)) === port &&
    (h === host || wildcard.includes(h) || wildcard.includes(host))
  );
}
