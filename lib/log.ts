/**
 * The engine logs through this interface only: the CLI backs it with JSON lines or a terminal view, the Lambda
 * handlers with Powertools' Logger. Fields must never carry secrets.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** One JSON object per line on `write` (stderr by default): what log collectors expect. */
export function jsonLogger(
  opts: {
    level?: 'debug' | 'info' | 'warn' | 'error';
    write?: (line: string) => void;
    base?: Record<string, unknown>;
  } = {},
): Logger {
  const order = ['debug', 'info', 'warn', 'error'] as const;
  const min = order.indexOf(opts.level ?? 'info');
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (level: (typeof order)[number]) => (message: string, fields?: Record<string, unknown>) => {
    if (order.indexOf(level) < min) return;
    write(JSON.stringify({ time: new Date().toISOString(), level, message, ...opts.base, ...fields }));
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
