// The tunnels of a running `up`, one TunnelSet per tunnel so that one can be stopped, started or restarted
// (control socket, config reload) without touching the others' sessions.
import type { TunnelConfig } from '../engine/plugin.js';
import type { TunnelSet, TunnelStateChange, TunnelStatus } from '../engine/types.js';

/** Starts one tunnel of `defs` (engine.startTunnels with one name and these definitions). */
export type StartOne = (name: string, defs: readonly TunnelConfig[]) => Promise<TunnelSet>;

/** What a reload did, by tunnel name. */
export interface ReloadChanges {
  started: string[];
  stopped: string[];
  restarted: string[];
}

interface Running {
  def: TunnelConfig;
  set: TunnelSet;
  off: () => void;
}

export class TunnelManager {
  private readonly running = new Map<string, Running>();
  /** The tunnels that should run: the ones started, plus `tunnel up`, minus `tunnel down`. */
  private readonly wanted = new Set<string>();
  /** One change at a time: a reload and a `tunnel down` must not interleave. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private defs: readonly TunnelConfig[],
    private readonly startOne: StartOne,
    private readonly onChange: (change: TunnelStateChange) => void,
    /** Started without names: tunnels with autostart added to the config later start on reload. */
    private readonly followAutostart: boolean,
  ) {}

  get definitions(): readonly TunnelConfig[] {
    return this.defs;
  }

  status(): TunnelStatus[] {
    return [...this.running.values()].flatMap((r) => r.set.status());
  }

  /** Starts `names` (in config order); each one's first state is reported through onChange. */
  start(names: readonly string[]): Promise<void> {
    return this.serial(async () => {
      for (const def of this.defs.filter((d) => names.includes(d.name))) {
        this.wanted.add(def.name);
        await this.launch(def);
      }
    });
  }

  /** Brings one tunnel up (false: it was already running). An unknown name throws startTunnels' error. */
  up(name: string): Promise<boolean> {
    return this.serial(async () => {
      this.wanted.add(name);
      if (this.running.has(name)) return false;
      const def = this.defs.find((d) => d.name === name);
      if (!def) {
        this.wanted.delete(name);
        await this.startOne(name, this.defs); // throws the unknown-tunnel line every command prints
        return false;
      }
      await this.launch(def);
      return true;
    });
  }

  /** Stops one tunnel (its sessions terminated, its port closed); false when it was not running. */
  down(name: string): Promise<boolean> {
    return this.serial(async () => {
      this.wanted.delete(name);
      return this.halt(name);
    });
  }

  /**
   * Applies a new config: tunnels removed are stopped, changed ones restarted, new ones started when they
   * are wanted (autostart, for an `up` started without names); the others keep their sessions.
   */
  reload(defs: readonly TunnelConfig[]): Promise<ReloadChanges> {
    return this.serial(async () => {
      const before = new Map(this.defs.map((d) => [d.name, d]));
      this.defs = defs;
      const changes: ReloadChanges = { started: [], stopped: [], restarted: [] };
      const names = new Set(defs.map((d) => d.name));
      for (const name of [...this.wanted]) if (!names.has(name)) this.wanted.delete(name);
      if (this.followAutostart)
        for (const d of defs) if (d.autostart && !before.has(d.name)) this.wanted.add(d.name);
      for (const name of [...this.running.keys()]) {
        if (!this.wanted.has(name)) {
          await this.halt(name);
          changes.stopped.push(name);
        }
      }
      for (const def of defs.filter((d) => this.wanted.has(d.name))) {
        const current = this.running.get(def.name);
        if (current && sameDefinition(current.def, def)) continue;
        if (current) await this.halt(def.name);
        await this.launch(def);
        (current ? changes.restarted : changes.started).push(def.name);
      }
      return changes;
    });
  }

  /** Stops every tunnel (at the end of `up`). */
  stopAll(): Promise<void> {
    return this.serial(async () => {
      await Promise.all([...this.running.keys()].map((n) => this.halt(n)));
    });
  }

  private async launch(def: TunnelConfig): Promise<void> {
    const set = await this.startOne(def.name, this.defs);
    const off = set.onChange(this.onChange);
    this.running.set(def.name, { def, set, off });
    // The set started inside startTunnels, before this subscription: its first change already happened.
    for (const s of set.status()) {
      this.onChange({
        tunnel: s.name,
        state: s.state,
        previous: undefined,
        ...(s.detail ? { detail: s.detail } : {}),
      });
    }
  }

  private async halt(name: string): Promise<boolean> {
    const r = this.running.get(name);
    if (!r) return false;
    this.running.delete(name);
    await r.set.stop();
    r.off();
    return true;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** Whether a tunnel's definition is unchanged (the resolved config has no functions, so JSON compares it). */
export function sameDefinition(a: TunnelConfig, b: TunnelConfig): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, sortKeys(x)]),
    );
  return v;
}
