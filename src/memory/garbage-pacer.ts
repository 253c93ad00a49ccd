// Keeps dead Buffers from piling up in a process that streams data through them (tunnels).
//
// V8 starts a full GC for external memory (ArrayBuffer backing stores) only once it has grown 64 MB past
// its level at the last one, and a long incremental marking keeps the Buffers allocated meanwhile for one
// more cycle. A tunnel moving 100+ MB/s in 64 KiB socket reads can hold 50-60 MB of dead Buffers that way
// before V8 acts (measured: docs/performance.md). The pacer looks at Buffer memory as traffic flows and runs
// a full GC when it has grown well past its lowest level since the last one. It costs nothing while idle.
// `stormtunnel up` enables it for its process (enableGarbagePacing).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface GarbagePacerOptions {
  /** Collect once Buffer memory is this far above its lowest level since the last collection (24 MiB). */
  growthBytes?: number;
  /** Look at Buffer memory every this many bytes moved (4 MiB). */
  checkEveryBytes?: number;
  /** At most one collection per this many ms (200): live data growing is not garbage. */
  minIntervalMs?: number;
  /** Bytes held by ArrayBuffers now (default: process.memoryUsage().arrayBuffers). */
  arrayBuffers?: () => number;
  /** A full, synchronous GC; without one the pacer does nothing. */
  collect: (() => void) | undefined;
  now?: () => number;
}

export class GarbagePacer {
  /** Collections the pacer ran. */
  collections = 0;
  private readonly growth: number;
  private readonly checkEvery: number;
  private readonly minInterval: number;
  private readonly arrayBuffers: () => number;
  private readonly collect: (() => void) | undefined;
  private readonly now: () => number;
  private sinceCheck = 0;
  private low = Infinity;
  private lastAt = -Infinity;

  constructor(opts: GarbagePacerOptions) {
    this.growth = opts.growthBytes ?? 24 * 1024 * 1024;
    this.checkEvery = opts.checkEveryBytes ?? 4 * 1024 * 1024;
    this.minInterval = opts.minIntervalMs ?? 200;
    this.arrayBuffers = opts.arrayBuffers ?? (() => process.memoryUsage().arrayBuffers);
    this.collect = opts.collect;
    this.now = opts.now ?? (() => performance.now());
  }

  /** `bytes` went through a tunnel (either way). */
  note(bytes: number): void {
    if (!this.collect) return;
    this.sinceCheck += bytes;
    if (this.sinceCheck < this.checkEvery) return;
    this.sinceCheck = 0;
    const held = this.arrayBuffers();
    // The lowest level seen approximates what is live; right after a collection the count is still high
    // while V8 frees the dead backing stores on a background thread.
    if (held < this.low) this.low = held;
    if (held - this.low < this.growth) return;
    const now = this.now();
    if (now - this.lastAt < this.minInterval) return;
    this.lastAt = now;
    this.collect();
    this.collections++;
    this.low = this.arrayBuffers();
  }
}

/**
 * V8's full GC, without exposing `gc` to the process (plugins, the config): the flag applies to contexts
 * created while it is set, so only a throw-away context gets it. undefined if this runtime refuses.
 */
export function obtainFullGc(): (() => void) | undefined {
  const global = (globalThis as { gc?: unknown }).gc;
  if (typeof global === 'function') return () => void (global as () => void)();
  try {
    setFlagsFromString('--expose-gc');
    const fn: unknown = runInNewContext('gc');
    return typeof fn === 'function' ? () => void (fn as () => void)() : undefined;
  } catch {
    return undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

let shared: GarbagePacer | undefined;
const disabled = new GarbagePacer({ collect: undefined });

/**
 * Lets this process's tunnels run full GCs as traffic flows. `up` does: its heap is ~25 MB, so a full GC is a
 * pause of a few ms. Off unless called, because a host application embedding stormtunnel may have a large
 * heap, whose full GC is a long pause. Returns false where V8's GC cannot be had.
 */
export function enableGarbagePacing(options: Omit<GarbagePacerOptions, 'collect'> = {}): boolean {
  const collect = obtainFullGc();
  if (!collect) return false;
  shared = new GarbagePacer({ ...options, collect });
  return true;
}

/** The process's pacer, fed by every tunnel of the process; does nothing until `enableGarbagePacing()`. */
export function sharedGarbagePacer(): GarbagePacer {
  return shared ?? disabled;
}
