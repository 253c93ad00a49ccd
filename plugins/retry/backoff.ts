// Exponential backoff with "equal jitter": the delay for attempt n lies in [d/2, d], d = min(cap, base * 2^(n-1)).
// Half the delay stays deterministic (a floor that still backs off), half is random (spreads clients apart).

export function backoffDelay(
  attempt: number,
  policy: { baseDelayMs: number; maxDelayMs: number; jitter: boolean },
  random: () => number,
): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  if (!policy.jitter) return exp;
  return Math.round(exp / 2 + random() * (exp / 2));
}
