// The list of requests the emulator served: operation, outcome and key parameters, never secrets.
import type { Exchange } from './http.js';
import type { RequestLogEntry } from './types.js';

const MAX_ENTRIES = 5000;

export class RequestLog {
  private entries: RequestLogEntry[] = [];
  private seq = 0;

  record(ex: Exchange, status: number, nowMs: number): RequestLogEntry {
    const entry: RequestLogEntry = {
      seq: ++this.seq,
      time: new Date(nowMs).toISOString(),
      service: ex.service,
      operation: ex.operation,
      status,
      params: { ...ex.params },
    };
    if (ex.errorCode) entry.errorCode = ex.errorCode;
    if (ex.fault) entry.fault = ex.fault;
    this.entries.push(entry);
    // Bounded: a long demo must not grow memory without limit.
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
    return entry;
  }

  list(): RequestLogEntry[] {
    return this.entries.map((e) => ({ ...e, params: { ...e.params } }));
  }

  clear(): void {
    this.entries = [];
  }
}
