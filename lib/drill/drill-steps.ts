import type { Logger } from '../log.ts';

/** A drill's time in names and ids: UTC yyyymmdd-hhmmss. */
export function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export interface DrillStep {
  name: string;
  ok: boolean;
  duration_ms: number;
  detail: string;
}

/** A drill's steps in order, each timed; a failed step is recorded (its message as detail), never thrown. */
export class DrillSteps {
  readonly list: DrillStep[] = [];
  failed = false;
  readonly #logger: Logger;
  constructor(logger: Logger) {
    this.#logger = logger;
  }

  async run(name: string, fn: () => Promise<string>): Promise<boolean> {
    const t0 = Date.now();
    this.#logger.info(`drill: ${name}`);
    try {
      const detail = await fn();
      this.list.push({ name, ok: true, duration_ms: Date.now() - t0, detail });
      return true;
    } catch (e) {
      this.failed = true;
      const detail = e instanceof Error ? e.message : String(e);
      this.list.push({ name, ok: false, duration_ms: Date.now() - t0, detail });
      this.#logger.error(`drill step failed: ${name}`, { error: detail });
      return false;
    }
  }
}
