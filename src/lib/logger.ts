export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

/**
 * Structured logger port. Callers pass ids and counts, never personal data
 * (emails, names, IPs) or secrets: a log line must be safe to ship anywhere.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const ranks: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** One JSON object per line on the given sink (stdout by default). */
export function createJsonLogger(level: LogLevel, write: (line: string) => void = (line) => console.log(line)): Logger {
  const log = (at: LogLevel) => (message: string, fields?: LogFields) => {
    if (ranks[at] < ranks[level]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: at, msg: message, ...fields }));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
