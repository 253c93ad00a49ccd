// The list of requests the emulator served: operation, outcome and key parameters, never secrets.
import type { Exchange } from './http.js';
import type { RequestLogEntry, ServiceName } from './types.js';

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
    this.push(entry);
    return entry;
  }

  private push(entry: RequestLogEntry): void {
    this.entries.push(entry);
    // Bounded: a long demo must not grow memory without limit.
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
  }

  /** Something that happened outside an HTTP exchange (a data-channel event); status 0. */
  event(
    service: ServiceName,
    operation: string,
    params: RequestLogEntry['params'],
    nowMs: number,
  ): RequestLogEntry {
    const entry: RequestLogEntry = {
      seq: ++this.seq,
      time: new Date(nowMs).toISOString(),
      service,
      operation,
      status: 0,
      params: { ...params },
    };
    this.push(entry);
    return entry;
  }

  list(): RequestLogEntry[] {
    return this.entries.map((e) => ({ ...e, params: { ...e.params } }));
  }

  clear(): void {
    this.entries = [];
  }
}
