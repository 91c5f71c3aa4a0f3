// The one logging interface every layer takes: a function of one line and a level. Lower layers log
// through it and know nothing of where lines go; the CLI binds it to a pino logger (cli/logger.ts),
// which filters by level and writes JSON lines or a human one-line format. Owns the interface only.

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** Log one line; `level` defaults to info. */
export type LogFn = (line: string, level?: LogLevel) => void;

export const NO_LOG: LogFn = () => {};
