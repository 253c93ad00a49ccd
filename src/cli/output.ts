// Output for listing commands: aligned tables for people, JSON for scripts.

export function printJson(out: NodeJS.WritableStream, value: unknown): void {
  out.write(JSON.stringify(value, null, 2) + '\n');
}

/** Prints rows as an aligned table with a header; empty cells show as "-". */
export function printTable(
  out: NodeJS.WritableStream,
  headers: string[],
  rows: (string | number | undefined)[][],
): void {
  const cells = rows.map((r) =>
    headers.map((_, i) => (r[i] === undefined || r[i] === '' ? '-' : String(r[i]))),
  );
  const widths = headers.map((h, i) => Math.max(width(h), ...cells.map((r) => width(r[i]!))));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c))))
      .join('  ')
      .trimEnd();
  out.write(line(headers) + '\n');
  for (const r of cells) out.write(line(r) + '\n');
}

/** Display width, counting emoji status marks as two columns. */
function width(s: string): number {
  let w = 0;
  for (const ch of s) w += /\p{Extended_Pictographic}/u.test(ch) ? 2 : 1;
  return w;
}
