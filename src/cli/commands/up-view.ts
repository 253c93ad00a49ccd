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

const HEADERS = ['TUNNEL', 'LOCAL -> TARGET', 'STATE', 'CONNS', 'IN', 'OUT', 'SINCE'];

export function tableLines(tunnels: TunnelStatus[], now: number): string[] {
  const rows = tunnels.map((t) => [
    t.name,
    `${t.localAddress ?? '-'} -> ${t.target}`,
    t.state,
    String(t.connections),
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

/** Redraws the table in place on a terminal, at most every `intervalMs`; lines printed above it stay. */
export class LiveTable {
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly status: () => TunnelStatus[],
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.draw();
    this.timer = setInterval(() => this.draw(), this.intervalMs);
  }

  /** Prints a line that stays (an error, a sign-in hint) above the table. */
  say(line: string): void {
    this.erase();
    this.out.write(line + '\n');
    this.draw();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.draw();
    this.drawn = 0;
  }

  private erase(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    const lines = tableLines(this.status(), Date.now());
    this.erase();
    this.out.write(lines.join('\n') + '\n');
    this.drawn = lines.length;
  }
}
