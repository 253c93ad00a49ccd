// Values echoed in error messages are shortened: a message stays one readable line whatever a file holds.

/** `value` on one line, cut to `max` characters with "…" where it was cut. */
export function shortenForMessage(value: string, max = 80): string {
  const oneLine = value.replace(/\s*\r?\n\s*/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, Math.max(1, max - 1))}…`;
}
