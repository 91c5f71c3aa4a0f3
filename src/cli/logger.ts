// The process's logger: pino with a level, writing JSON lines or a human one-line format (pino-pretty)
// to stderr, and the LogFn (net/log.ts) the layers below log through. `up` and `node` build one from
// `--log-level` and `--log-format`. Owns the choice of sink and format; the layers own what they say.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LogFn, LogLevel } from '../net/log.ts';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  level: string;
  format: LogFormat;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, base: undefined };
  if (options.format === 'json') return pino(base, pino.destination({ fd: 2, sync: true }));
  const stream = pretty({
    destination: 2,
    sync: true,
    singleLine: true,
    colorize: process.stderr.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
  return pino(base, stream);
}

/** Lines from the layers at their level (info when they give none). */
export function logFnOf(logger: Logger): LogFn {
  return (line: string, level: LogLevel = 'info') => logger[level](line);
}

/** Whether `level` passes a threshold, for a process that forwards lines instead of writing them. */
export function levelPasses(level: LogLevel, threshold: string): boolean {
  const rank = (l: string): number => (LOG_LEVELS as readonly string[]).indexOf(l);
  return rank(threshold) >= 0 && rank(level) >= rank(threshold) && threshold !== 'silent';
}
