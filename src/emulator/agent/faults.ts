// Fault injection for the emulated data channel: drop, duplicate and reorder stream messages at given rates.

import type { DataChannelFaults } from './types.js';

/** mulberry32: small seeded PRNG so a failing fault run can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Applies faults to one direction. A reordered item is held back and released right after the next item
 * (or after a short timer when traffic stops), so it arrives out of order.
 */
export class FaultLane<T> {
  private held: T | undefined;
  private heldTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly faults: () => DataChannelFaults,
    private readonly random: () => number,
    private readonly out: (item: T) => void,
  ) {}

  push(item: T): void {
    const f = this.faults();
    if (f.dropRate > 0 && this.random() < f.dropRate) return;
    const copies = f.duplicateRate > 0 && this.random() < f.duplicateRate ? 2 : 1;
    if (f.reorderRate > 0 && this.held === undefined && this.random() < f.reorderRate) {
      this.held = item;
      this.heldTimer = setTimeout(() => this.release(), 5);
      if (copies === 2) this.out(item);
      return;
    }
    for (let i = 0; i < copies; i++) this.out(item);
    this.release();
  }

  /** Sends the held item now (or drops it when `discard`). */
  release(discard = false): void {
    if (this.heldTimer) clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    const h = this.held;
    this.held = undefined;
    if (h !== undefined && !discard) this.out(h);
  }
}
