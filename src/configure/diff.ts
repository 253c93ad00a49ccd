// A unified diff of two texts (Myers' O(ND) algorithm), for `configure populate --dry-run` and previews.

type Op = { kind: ' ' | '-' | '+'; line: string };

function splitKeepingText(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  // A final newline ends the last line; it does not start an empty one.
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The edit script from `a` to `b`: shortest, found with Myers' greedy algorithm. */
function editScript(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && (v[offset + k - 1] ?? 0) < (v[offset + k + 1] ?? 0)))
        x = v[offset + k + 1] ?? 0;
      else x = (v[offset + k - 1] ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk the trace back from (n, m) to (0, 0).
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d] as Int32Array;
    const k = x - y;
    let prevK: number;
    if (k === -d || (k !== d && (vd[offset + k - 1] ?? 0) < (vd[offset + k + 1] ?? 0))) prevK = k + 1;
    else prevK = k - 1;
    const prevX = d === 0 ? 0 : (vd[offset + prevK] ?? 0);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: ' ', line: a[x - 1] as string });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) ops.push({ kind: '+', line: b[y - 1] as string });
      else ops.push({ kind: '-', line: a[x - 1] as string });
    }
    x = prevX;
    y = prevY;
  }
  return ops.reverse();
}

/**
 * `diff -u` style output of the change from `before` to `after`, with `context` unchanged lines around each
 * change; the empty string when they are equal line by line.
 */
export function unifiedDiff(
  before: string,
  after: string,
  labels: { from: string; to: string },
  context = 3,
): string {
  const a = splitKeepingText(before);
  const b = splitKeepingText(after);
  const ops = editScript(a, b);
  if (!ops.some((o) => o.kind !== ' ')) return '';
  let out = `--- ${labels.from}\n+++ ${labels.to}\n`;
  // Positions in a and b before each op, to number the hunks.
  const pos: { ai: number; bi: number }[] = [];
  let ai = 0;
  let bi = 0;
  for (const o of ops) {
    pos.push({ ai, bi });
    if (o.kind !== '+') ai++;
    if (o.kind !== '-') bi++;
  }
  let i = 0;
  while (i < ops.length) {
    if ((ops[i] as Op).kind === ' ') {
      i++;
      continue;
    }
    const start = Math.max(0, i - context);
    let end = i;
    // Extend the hunk while the next change is within 2 * context unchanged lines.
    for (;;) {
      while (end < ops.length && (ops[end] as Op).kind !== ' ') end++;
      let gap = end;
      while (gap < ops.length && (ops[gap] as Op).kind === ' ') gap++;
      if (gap < ops.length && gap - end <= 2 * context) end = gap;
      else {
        end = Math.min(ops.length, end + context);
        break;
      }
    }
    const first = pos[start] as { ai: number; bi: number };
    const hunk = ops.slice(start, end);
    const aLen = hunk.filter((o) => o.kind !== '+').length;
    const bLen = hunk.filter((o) => o.kind !== '-').length;
    const range = (from: number, len: number) =>
      `${len === 0 ? from : from + 1}${len === 1 ? '' : `,${len}`}`;
    out += `@@ -${range(first.ai, aLen)} +${range(first.bi, bLen)} @@\n`;
    for (const o of hunk) out += `${o.kind}${o.line}\n`;
    i = end;
  }
  return out;
}
