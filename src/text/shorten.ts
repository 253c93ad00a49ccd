// Text that goes into a message or a log line is shortened here, and only here, so a message stays one
// readable line whatever a file, a program or the service hands us (a multi-line or huge text cannot forge
// or flood log lines). Never pass secrets to either function.

const MAX_CHARS = 300;

/** C0 controls, DEL and the Unicode line/paragraph separators. */
// eslint-disable-next-line no-control-regex
const BREAKS = /[\u0000-\u001f\u007f\u2028\u2029]+/g;

/**
 * Text from elsewhere (a program's stderr, a parser's reason, the service's close reason) on one line:
 * controls and runs of spaces become one space, cut to `max` characters with "…" where it was cut.
 */
export function oneLine(text: string, max = MAX_CHARS): string {
  const flat = text
    .replace(BREAKS, ' ')
    .replace(/\s{2,}/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * A value from the user's files or environment as echoed in a message: one line with its inner spacing
 * kept (it may matter), at most `max` characters, with its full length when cut (a 2 MB region must not
 * become a 2 MB warning).
 */
export function shortValue(value: string, max = 60): string {
  const flat = value.replace(/[\r\n\t\v\f\u2028\u2029]+/g, ' ');
  const chars = [...flat];
  if (chars.length <= max) return flat;
  return `${chars.slice(0, max - 1).join('')}… (${chars.length} characters)`;
}
