// Text from the service (channel_closed Output, close reasons) goes into log lines and state details: one
// line, bounded, so a multi-line or huge message cannot forge or flood log lines.
const MAX_CHARS = 300;

/** C0 controls, DEL and the Unicode line/paragraph separators. */
// eslint-disable-next-line no-control-regex
const BREAKS = /[\u0000-\u001f\u007f\u2028\u2029]+/g;

export function oneLine(text: string, max = MAX_CHARS): string {
  const flat = text
    .replace(BREAKS, ' ')
    .replace(/\s{2,}/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
