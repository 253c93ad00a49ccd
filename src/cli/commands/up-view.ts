// What `stormtunnel up` shows: a table redrawn in place on a terminal, one plain line per change otherwise.
import type { TunnelStateChange, TunnelStatus } from '../../engine/types.js';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatSince(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Sessions a tunnel runs now: its pool when it may run several, else its one session (or none). */
export function sessionsCell(t: TunnelStatus): string {
  if (t.sessions) return String(t.sessions.length);
  return t.sessionId ? '1' : '-';
}

const HEADERS = ['TUNNEL', 'LOCAL -> TARGET', 'STATE', 'CONNS', 'SESSIONS', 'IN', 'OUT', 'SINCE'];

export function tableLines(tunnels: TunnelStatus[], now: number): string[] {
  const rows = tunnels.map((t) => [
    t.name,
    `${t.localAddress ?? '-'} -> ${t.target}`,
    t.state,
    String(t.connections),
    sessionsCell(t),
    formatBytes(t.bytesIn),
    formatBytes(t.bytesOut),
    formatSince(now - t.since),
  ]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(HEADERS), ...rows.map(line)];
}

/** One line for a state change: "tunnel db: ready on 127.0.0.1:5432 -> i-0123456789abcdef0:5432". */
export function changeLine(change: TunnelStateChange, status: TunnelStatus | undefined): string {
  const where = status ? ` ${status.localAddress ?? '-'} -> ${status.target}` : '';
  if (change.state === 'ready') return `tunnel ${change.tunnel}: ready${where}`;
  return `tunnel ${change.tunnel}: ${change.state}${change.detail ? `: ${change.detail}` : ''}`;
}

const CSI = '\x1b[';
const SAVE = '\x1b7';
const RESTORE = '\x1b8';

/** The part of a terminal LiveTable needs (a tty.WriteStream). */
export interface TerminalOut {
  columns: number;
  rows: number;
  write(s: string): boolean;
  on(event: 'resize', listener: () => void): unknown;
  off(event: 'resize', listener: () => void): unknown;
}

/**
 * The table pinned to the bottom lines of the terminal, redrawn in place; everything else scrolls above it.
 * The lines above are a scroll region (DECSTBM), so output the view does not control (log lines written
 * straight to fd 2, a sign-in prompt) scrolls there and cannot overwrite or shift the table.
 */
export class LiveTable {
  /** Lines reserved at the bottom; 0 while not drawn (stopped, or a terminal too small for it). */
  private height = 0;
  /** Lines above the table (the scroll region) when it was laid out. */
  private top = 0;
  private painted = '';
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly onResize = (): void => this.layout();
  private readonly onExit = (): void => this.release();

  constructor(
    private readonly out: TerminalOut,
    private readonly status: () => TunnelStatus[],
    private readonly intervalMs = 500,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.layout();
    this.timer = setInterval(() => this.draw(), this.intervalMs);
    this.out.on('resize', this.onResize);
    // A crash must not leave the terminal with a scroll region.
    process.once('exit', this.onExit);
  }

  /** Prints a line that stays (an error, a sign-in hint) above the table. */
  say(line: string): void {
    this.out.write(line + '\n');
    this.draw();
  }

  /** Draws the table a last time and gives the terminal back, the cursor on the line below the table. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.out.off('resize', this.onResize);
    process.off('exit', this.onExit);
    this.draw(true);
    this.release();
  }

  private release(): void {
    if (this.height === 0) return;
    const last = Math.min(this.top + this.height, this.out.rows);
    this.height = 0;
    // Whole-screen scrolling again, then below the table (a newline on the last line scrolls it up one).
    this.out.write(`${SAVE}${CSI}r${RESTORE}${CSI}${last};1H\n`);
  }

  /** (Re)claims the bottom lines for the table: at start, on resize, when the number of rows changes. */
  private layout(): void {
    const lines = this.lines();
    const rows = this.out.rows;
    if (this.height > 0) {
      // Drop the old table (from where it started, as far as the terminal still has it) and the region.
      this.out.write(`${SAVE}${CSI}r${CSI}${Math.min(this.top + 1, rows)};1H${CSI}J${RESTORE}`);
      this.height = 0;
    }
    // Too small a terminal: no table (changes still print as lines).
    if (rows - lines.length < 3) {
      this.painted = '';
      return;
    }
    const h = lines.length;
    const top = rows - h;
    // Make room: the newlines push what is on screen up so the bottom h lines are free, then the
    // cursor goes back to where the text ends; the region keeps it (and all later output) above the table.
    this.out.write(
      `${'\n'.repeat(h)}${CSI}${h}A${SAVE}${CSI}1;${top}r${RESTORE}` +
        `${SAVE}${CSI}${top + 1};1H${CSI}J${RESTORE}`,
    );
    this.height = h;
    this.top = top;
    this.painted = '';
    this.paint(lines);
  }

  private draw(force = false): void {
    if (!this.running && !force) return;
    const lines = this.lines();
    if (lines.length !== this.height) {
      if (this.running) this.layout();
      return;
    }
    this.paint(lines);
  }

  private paint(lines: string[]): void {
    if (this.height === 0) return;
    const width = Math.max(1, this.out.columns - 1);
    const fitted = lines.map((l) => (l.length > width ? l.slice(0, width - 1) + '…' : l));
    const text = fitted.join('\n');
    if (text === this.painted) return;
    this.painted = text;
    const top = this.top;
    // One write: each line overwritten then cleared to its end, so nothing blinks.
    let seq = SAVE;
    fitted.forEach((l, i) => (seq += `${CSI}${top + 1 + i};1H${l}${CSI}K`));
    this.out.write(seq + RESTORE);
  }

  private lines(): string[] {
    return tableLines(this.status(), this.now());
  }
}
