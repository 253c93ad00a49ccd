// The running tunnels of one startTunnels call: what `up` shows, waits for and stops.
import { randomUUID } from 'node:crypto';
import { sharedGarbagePacer } from '../../src/plugin-kit/index.js';
import type {
  PluginApi,
  TunnelSet,
  TunnelStartRequest,
  TunnelStateChange,
  TunnelStatus,
} from '../../src/plugin-kit/index.js';
import { maxSessionsOf } from './pool-policy.js';
import { Tunnel } from './tunnel.js';
import type { ResolvedSsmTunnelOptions } from './types.js';

/** One id per process, as the reference client does (the agent sees it in the open JSON). */
export const CLIENT_ID = randomUUID();

const SETTLED = new Set(['ready', 'idle', 'waiting-for-sign-in', 'failed', 'stopped']);

export class RunningTunnels implements TunnelSet {
  readonly tunnels: Tunnel[];
  private readonly listeners = new Set<(change: TunnelStateChange) => void>();
  private readonly settleWaiters = new Set<() => void>();
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly api: PluginApi,
    request: TunnelStartRequest,
    options: ResolvedSsmTunnelOptions,
    private readonly onStopped: () => void = () => undefined,
  ) {
    this.tunnels = request.tunnels.map(
      (config) =>
        new Tunnel({
          api,
          config,
          request,
          options,
          clientId: CLIENT_ID,
          onChange: (c) => this.changed(c),
          traffic: sharedGarbagePacer(),
          maxSessions: maxSessionsOf(api, config, options.maxSessions),
        }),
    );
  }

  /** Starts every tunnel at once; one tunnel's failure never stops the others. */
  start(): void {
    for (const t of this.tunnels) void t.bringUp();
  }

  status(): TunnelStatus[] {
    return this.tunnels.map((t) => t.status());
  }

  settled(): Promise<void> {
    return new Promise<void>((resolve) => {
      const check = () => {
        if (this.tunnels.every((t) => SETTLED.has(t.currentState))) {
          this.settleWaiters.delete(check);
          resolve();
        }
      };
      this.settleWaiters.add(check);
      check();
    });
  }

  onChange(listener: (change: TunnelStateChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onSignIn(): void {
    for (const t of this.tunnels) t.onSignIn();
  }

  onWake(): void {
    for (const t of this.tunnels) t.onWake();
  }

  stop(): Promise<void> {
    this.stopping ??= Promise.all(this.tunnels.map((t) => t.stop())).then(() => this.onStopped());
    return this.stopping;
  }

  private changed(change: TunnelStateChange): void {
    this.api.emit.tunnelState(change).catch(() => undefined);
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        this.api.logger.error('a tunnel state listener failed', { err });
      }
    }
    for (const check of [...this.settleWaiters]) check();
  }
}
