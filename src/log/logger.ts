// Structured logging to stderr with pino: pretty for people, JSON with --log-format json. Every record
// passes through redact() first, so a plugin cannot log a token by mistake.
import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import type { Logger } from '../engine/types.js';
import { redact, redactString } from './redact.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type LogFormat = 'pretty' | 'json';

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Defaults to stderr (fd 2). */
  destination?: NodeJS.WritableStream;
}

export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const stream =
    options.format === 'json'
      ? (options.destination ?? pino.destination({ fd: 2, sync: true }))
      : pretty({
          destination: options.destination ?? 2,
          sync: true,
          colorize: !process.env.NO_COLOR && Boolean(process.stderr.isTTY),
          ignore: 'pid,hostname',
          translateTime: 'HH:MM:ss',
          singleLine: true,
        });
  return wrap(pino({ level, base: undefined }, stream as pino.DestinationStream));
}

function wrap(p: PinoLogger): Logger {
  const log =
    (lvl: 'debug' | 'info' | 'warn' | 'error') => (msg: string, fields?: Record<string, unknown>) => {
      if (!p.isLevelEnabled(lvl)) return;
      if (fields) p[lvl](redact(fields) as object, redactString(msg));
      else p[lvl](redactString(msg));
    };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (bindings) => wrap(p.child(redact(bindings) as Record<string, unknown>)),
  };
}

/** A logger that drops everything (library use, tests). */
export function silentLogger(): Logger {
  const noop = () => undefined;
  const l: Logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => l };
  return l;
}
