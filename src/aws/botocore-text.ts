// Python's string rules that the AWS CLI (botocore + configparser) applies to ~/.aws files, ported so that we
// read the same names and values: str.strip() whitespace, str.splitlines() breaks, str.lower(), shlex.split().

/** The characters for which Python's str.isspace() is true (also what `\s` matches in Python's re). */
const PY_SPACE =
  '\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';

export function isPySpace(ch: string): boolean {
  return ch.length === 1 && PY_SPACE.includes(ch);
}

/** Python's `s.rstrip()`: unlike JS trimEnd it keeps U+FEFF and strips U+001C..U+001F and U+0085. */
export function pyRstrip(s: string): string {
  let end = s.length;
  while (end > 0 && isPySpace(s[end - 1] as string)) end--;
  return s.slice(0, end);
}

/** Python's `s.strip()`. */
export function pyStrip(s: string): string {
  let start = 0;
  while (start < s.length && isPySpace(s[start] as string)) start++;
  return pyRstrip(s.slice(start));
}

/** Index of the first character that is not Python whitespace (configparser's indent), or -1. */
export function pyFirstNonSpace(s: string): number {
  for (let i = 0; i < s.length; i++) if (!isPySpace(s[i] as string)) return i;
  return -1;
}

// str.splitlines() breaks on these single characters (and on \r\n as one break); U+001C..U+001E are
// the ASCII file/group/record separators.
const PY_LINE_BREAKS = '\n\r\v\f\u001c\u001d\u001e\u0085\u2028\u2029';

/** Python's `s.splitlines()` (no line ends kept; no empty last element for a trailing break). */
export function pySplitlines(s: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (!PY_LINE_BREAKS.includes(s[i] as string)) continue;
    out.push(s.slice(start, i));
    if (s[i] === '\r' && s[i + 1] === '\n') i++;
    start = i + 1;
  }
  if (start < s.length) out.push(s.slice(start));
  return out;
}

/** Python's `str.lower()`; JS's toLowerCase uses the same Unicode full case mapping, final sigma included. */
export function pyLower(s: string): string {
  return s.toLowerCase();
}

const SHLEX_SPACE = ' \t\r\n';
const SHLEX_QUOTES = `'"`;

/**
 * Python's `shlex.split(s)` (POSIX mode, no comments), which botocore uses on `[profile NAME]` headers.
 * Returns undefined where Python raises ValueError (an unclosed quote or a trailing backslash).
 */
export function shlexSplit(s: string): string[] | undefined {
  const words: string[] = [];
  const chars = [...s];
  let i = 0;
  for (;;) {
    // One read_token() call.
    let token = '';
    let quoted = false;
    let state: string = ' ';
    let escaped: string = ' ';
    let done = false;
    for (;;) {
      const ch = i < chars.length ? (chars[i++] as string) : '';
      if (state === ' ') {
        if (ch === '') {
          done = true;
          break;
        } else if (SHLEX_SPACE.includes(ch)) {
          if (token !== '' || quoted) break;
        } else if (ch === '\\') {
          escaped = 'a';
          state = ch;
        } else if (SHLEX_QUOTES.includes(ch)) {
          state = ch;
        } else {
          token = ch;
          state = 'a';
        }
      } else if (SHLEX_QUOTES.includes(state)) {
        quoted = true;
        if (ch === '') return undefined;
        if (ch === state) state = 'a';
        else if (ch === '\\' && state === '"') {
          escaped = state;
          state = ch;
        } else token += ch;
      } else if (state === '\\') {
        if (ch === '') return undefined;
        // Inside double quotes only the quote and the backslash itself may be escaped.
        if (SHLEX_QUOTES.includes(escaped) && ch !== state && ch !== escaped) token += state;
        token += ch;
        state = escaped;
      } else {
        if (ch === '') {
          done = true;
          break;
        } else if (SHLEX_SPACE.includes(ch)) {
          state = ' ';
          if (token !== '' || quoted) break;
        } else if (SHLEX_QUOTES.includes(ch)) {
          state = ch;
        } else if (ch === '\\') {
          escaped = 'a';
          state = ch;
        } else token += ch;
      }
    }
    if (token !== '' || quoted) words.push(token);
    if (done) return words;
  }
}
