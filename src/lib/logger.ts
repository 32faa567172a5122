export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

/**
 * Structured logger port. The first argument is the event: a fixed string
 * (never built from values, so operators can match and count it; a test
 * checks every call site), the values go in the fields. Callers pass ids and
 * counts, never personal data (emails, names, IPs) or secrets: a log line
 * must be safe to ship anywhere.
 */
export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

const ranks: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };


/**
 * One JSON object per line on the given sink (stdout by default):
 * `{"time":…,"level":…,"event":…, …fields}`. A field cannot replace those three.
 */
export function createJsonLogger(level: LogLevel, write: (line: string) => void = (line) => console.log(line)): Logger {
  const log = (at: LogLevel) => (event: string, fields?: LogFields) => {
    if (ranks[at] < ranks[level]) return;
    const { time: _time, level: _level, event: _event, ...values } = fields ?? {};
    write(JSON.stringify({ time: new Date().toISOString(), level: at, event, ...values }));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The same logger with `fields` on every line (a request's id on what its handlers log). */
export function withFields(logger: Logger, fields: LogFields): Logger {
  return {
    debug: (event, more) => logger.debug(event, { ...fields, ...more }),
    info: (event, more) => logger.info(event, { ...fields, ...more }),
    warn: (event, more) => logger.warn(event, { ...fields, ...more }),
    error: (event, more) => logger.error(event, { ...fields, ...more }),
  };
}
