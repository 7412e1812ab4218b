import { cliEnv } from './environment.ts';

/** Plain-text tables for terminals; JSON is the format for scripts (`--format json`). */
export function renderTable(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (typeof rows[0]?.[i] === 'number' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/**
 * The version of every JSON document a command prints with `--format json` (its first field): bumped when a field
 * changes meaning or goes away, not when one is added. `describe` prints the manifest, whose own `format_version`
 * (docs/format.md) it keeps.
 */
export const JSON_FORMAT_VERSION = 1;

/** A command's `--format json` document: `format_version` first, then the command's fields. */
export function jsonDocument(value: object): string {
  return JSON.stringify({ format_version: JSON_FORMAT_VERSION, ...value }, null, 2);
}

/** Whether to draw progress: on a terminal, and not in CI (whose logs keep every redraw) or on a dumb terminal. */
export function progressWanted(): boolean {
  return Boolean(process.stderr.isTTY) && cliEnv('CI') === undefined && cliEnv('TERM') !== 'dumb';
}

export interface ProgressState {
  /** What is done and how much there is, in one unit (offsets, records): the fraction and the ETA come from them. */
  done: number;
  total: number;
  /** When it started (epoch ms). */
  startedAt: number;
  now: number;
}

/** `42%, 1 min 3 s left` (no ETA before there is a rate to go by). */
export function percentAndEta(p: ProgressState): string {
  if (p.total <= 0) return '100%';
  const fraction = Math.min(1, Math.max(0, p.done / p.total));
  const elapsed = p.now - p.startedAt;
  const percent = `${Math.floor(fraction * 100)}%`;
  if (fraction <= 0 || fraction >= 1 || elapsed < 1000) return percent;
  const left = Math.round((elapsed * (1 - fraction)) / fraction);
  return `${percent}, ${formatDuration(Math.max(1000, Math.round(left / 1000) * 1000))} left`;
}

/** A one-line progress display that redraws itself on a terminal; silent elsewhere (progressWanted). */
export class ProgressLine {
  readonly #enabled: boolean;
  #last = 0;
  constructor(enabled = progressWanted()) {
    this.#enabled = enabled;
  }
  update(text: string, force = false): void {
    if (!this.#enabled) return;
    const now = Date.now();
    if (!force && now - this.#last < 200) return;
    this.#last = now;
    process.stderr.write(`\r\x1b[2K${text}`);
  }
  done(): void {
    if (this.#enabled) process.stderr.write('\r\x1b[2K');
  }
}
