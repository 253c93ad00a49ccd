import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  enableGarbagePacing,
  GarbagePacer,
  obtainFullGc,
  sharedGarbagePacer,
} from '../../src/memory/garbage-pacer.js';

const MiB = 1024 * 1024;

/** A pacer over a simulated Buffer count: `held` grows by what the test says, a collection frees `dead`. */
function simulated(opts: { minIntervalMs?: number } = {}) {
  const sim = { held: 10 * MiB, dead: 0, now: 0, collections: [] as number[] };
  const pacer = new GarbagePacer({
    growthBytes: 24 * MiB,
    checkEveryBytes: 4 * MiB,
    minIntervalMs: opts.minIntervalMs ?? 200,
    arrayBuffers: () => sim.held,
    collect: () => {
      sim.collections.push(sim.now);
      sim.held -= sim.dead;
      sim.dead = 0;
    },
    now: () => sim.now,
  });
  /** `bytes` of traffic that leaves `garbage` dead Buffers behind. */
  const flow = (bytes: number, garbage: number) => {
    sim.held += garbage;
    sim.dead += garbage;
    pacer.note(bytes);
  };
  return { sim, pacer, flow };
}

test('collects once Buffers grew past the allowance over their lowest level, not before', () => {
  const { sim, pacer, flow } = simulated();
  for (let i = 0; i < 5; i++) flow(4 * MiB, 4 * MiB); // 20 MiB of garbage: under the allowance
  assert.is(pacer.collections, 0);
  sim.now = 1000;
  flow(4 * MiB, 8 * MiB); // 28 MiB over the lowest level seen (10 MiB)
  assert.is(pacer.collections, 1);
  assert.is(sim.held, 10 * MiB, 'the garbage is gone');
});

test('looks at Buffer memory only every checkEveryBytes of traffic', () => {
  const { pacer, flow } = simulated();
  flow(4 * MiB, 0); // the first look sets the baseline
  flow(4 * MiB - 1, 100 * MiB); // far over, but the next look is not due yet
  assert.is(pacer.collections, 0);
  flow(1, 0);
  assert.is(pacer.collections, 1);
});

test('live data that keeps growing costs at most one collection per interval', () => {
  const { sim, pacer } = simulated({ minIntervalMs: 200 });
  // Nothing is garbage: every collection is useless, and the pacer must not spin.
  for (let i = 0; i < 100; i++) {
    sim.held += 30 * MiB;
    sim.now += 10;
    pacer.note(4 * MiB);
  }
  // 1 s simulated: at most one per 200 ms, and after each one the new level is the baseline.
  assert.ok(pacer.collections <= 5, `${pacer.collections} collections`);
  assert.ok(pacer.collections >= 2);
  for (let i = 1; i < sim.collections.length; i++) {
    assert.ok(sim.collections[i]! - sim.collections[i - 1]! >= 200);
  }
});

test('without a way to collect, the pacer does nothing', () => {
  let looked = 0;
  const pacer = new GarbagePacer({
    collect: undefined,
    arrayBuffers: () => (looked++, 1e12),
  });
  pacer.note(1e9);
  assert.is(looked, 0);
  assert.is(pacer.collections, 0);
});

test('obtainFullGc: a real full GC frees dead Buffers, without exposing gc to this context', async () => {
  const gc = obtainFullGc();
  assert.type(gc, 'function');
  assert.is((globalThis as { gc?: unknown }).gc, undefined);
  const before = process.memoryUsage().arrayBuffers;
  (() => {
    const keep: Buffer[] = [];
    for (let i = 0; i < 512; i++) keep.push(Buffer.alloc(64 * 1024, i));
    return keep.length;
  })();
  assert.ok(process.memoryUsage().arrayBuffers - before >= 30 * MiB, 'the Buffers were counted');
  gc!();
  // V8 frees dead backing stores on a background thread right after the collection.
  for (let i = 0; i < 200 && process.memoryUsage().arrayBuffers - before > 8 * MiB; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(
    process.memoryUsage().arrayBuffers - before <= 8 * MiB,
    `${((process.memoryUsage().arrayBuffers - before) / MiB).toFixed(1)} MiB still held`,
  );
});

test('the process pacer is off until enabled (a host application decides), then collects', () => {
  const off = sharedGarbagePacer();
  off.note(1e12);
  assert.is(off.collections, 0);
  let held = 0;
  assert.ok(enableGarbagePacing({ checkEveryBytes: 1, arrayBuffers: () => held }));
  const on = sharedGarbagePacer();
  assert.is.not(on, off);
  on.note(1); // baseline
  held = 100 * MiB;
  on.note(1);
  assert.is(on.collections, 1);
});

test.run();
