// Which candidate a session goes to when a selector matches several: the newest launch (a replacement wins over
// the instance it replaces), one at random per session (spreads sessions over the group), or exactly one
// (several is an error listing them). Ties order by id so the choice never depends on the reply's order.
import type { TunnelConfig } from '../../src/plugin-kit/index.js';

export type PickPolicy = NonNullable<TunnelConfig['pick']>;

export interface Candidate {
  id: string;
  /** ms since the epoch; 0 when unknown. */
  startedAt: number;
  /** How it reads in a list: `i-0abc (launched 2026-01-05T09:00:00Z)`. */
  label: string;
}

export type Choice<T extends Candidate> = { chosen: T; why: string } | { several: T[] };

export function choose<T extends Candidate>(
  candidates: readonly T[],
  pick: PickPolicy,
  random: () => number,
): Choice<T> {
  const sorted = [...candidates].sort((a, b) => b.startedAt - a.startedAt || a.id.localeCompare(b.id));
  const first = sorted[0];
  if (!first) throw new Error('choose() needs at least one candidate');
  if (sorted.length === 1) return { chosen: first, why: 'the only match' };
  if (pick === 'only') return { several: sorted };
  if (pick === 'random') {
    const chosen = sorted[Math.floor(random() * sorted.length)] ?? first;
    return { chosen, why: `picked at random from ${sorted.length}` };
  }
  return { chosen: first, why: `newest of ${sorted.length}` };
}
