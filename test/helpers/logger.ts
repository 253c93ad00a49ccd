// A Logger that records what plugins log, for assertions.
import type { Logger } from '../../src/engine/types.js';

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields: Record<string, unknown>;
}

export function captureLogger(
  records: LogRecord[] = [],
  bindings: Record<string, unknown> = {},
): Logger & { records: LogRecord[] } {
  const at =
    (level: LogRecord['level']) =>
    (msg: string, fields: Record<string, unknown> = {}) => {
      records.push({ level, msg, fields: { ...bindings, ...fields } });
    };
  return {
    records,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (b) => captureLogger(records, { ...bindings, ...b }),
  };
}
