import { jsonLogger, type Logger } from '../log.ts';

/** JSON lines for machines (not a terminal, or --log-format json); short text lines for people. */
export function cliLogger(opts: { format?: string | undefined; level?: string | undefined } = {}): Logger {
  const level = (opts.level ?? process.env['KAFKA_BACKUP_LOG_LEVEL'] ?? 'info') as
    | 'debug'
    | 'info'
    | 'warn'
    | 'error';
  const json = opts.format === 'json' || (opts.format === undefined && !process.stderr.isTTY);
  if (json) return jsonLogger({ level });
  return jsonLogger({
    level,
    write: (line) => {
      const { time: _t, level: lvl, message, ...fields } = JSON.parse(line) as Record<string, unknown>;
      const extra = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      process.stderr.write(
        `\r\x1b[2K${lvl === 'info' ? '' : `${String(lvl).toUpperCase()} `}${String(message)}${extra ? `  ${extra}` : ''}\n`,
      );
    },
  });
}
