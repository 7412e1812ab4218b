import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { type MetricsServer, type ServeOptions, serveRegistry } from './http-server.ts';
import { METRICS } from './names.ts';
import { type Observation, ObservationRecorder, type ObservationRecorderOptions } from './observations.ts';

export interface PrometheusMetricsOptions extends ObservationRecorderOptions {
  /** Node process metrics (`process_*`, `nodejs_*`) in the same registry. Default true. */
  processMetrics?: boolean;
  /**
   * Backup and restore ids whose series are kept; the oldest are dropped beyond this. One process usually runs one
   * backup, but a long-running one must not grow a series per backup forever. Default 100.
   */
  maxBackupIds?: number;
}

type Metric = Counter<string> | Gauge<string>;
type Labels = Observation['labels'];

/**
 * The recorder for scraped processes. It owns its Registry rather than using prom-client's global one, so two
 * instances (tests, or a library embedded in a host that has its own metrics) never collide.
 */
export class PrometheusMetrics extends ObservationRecorder {
  readonly registry: Registry;
  readonly #metrics = new Map<string, Metric>();
  readonly #maxBackupIds: number;
  /** backup_id -> the series carrying it, oldest first. */
  readonly #byBackupId = new Map<string, Map<string, { metric: Metric; labels: Labels }>>();

  constructor(opts: PrometheusMetricsOptions = {}) {
    super(opts);
    this.registry = new Registry();
    this.#maxBackupIds = opts.maxBackupIds ?? 100;
    for (const def of Object.values(METRICS)) {
      const config = {
        name: def.name,
        help: def.help,
        labelNames: def.labelNames,
        registers: [this.registry],
      };
      this.#metrics.set(def.name, def.kind === 'counter' ? new Counter(config) : new Gauge(config));
    }
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The text exposition, as served on /metrics. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  serve(opts: ServeOptions): Promise<MetricsServer> {
    return serveRegistry(this.registry, opts);
  }

  protected override record(batch: readonly Observation[]): void {
    for (const o of batch) {
      const metric = this.#metrics.get(o.metric.name)!;
      if (metric instanceof Counter) metric.inc(o.labels, o.value);
      else metric.set(o.labels, o.value);
      if (o.labels.backup_id !== undefined) this.#track(o.labels.backup_id, o.metric.name, metric, o.labels);
    }
  }

  #track(backupId: string, name: string, metric: Metric, labels: Labels): void {
    const series = this.#byBackupId.get(backupId) ?? new Map();
    // Re-inserting moves the id to the newest end: eviction drops the least recently touched backup.
    this.#byBackupId.delete(backupId);
    this.#byBackupId.set(backupId, series);
    series.set(`${name}\n${JSON.stringify(labels)}`, { metric, labels });
    while (this.#byBackupId.size > this.#maxBackupIds) {
      const [oldest, old] = this.#byBackupId.entries().next().value!;
      for (const s of old.values()) s.metric.remove(s.labels);
      this.#byBackupId.delete(oldest);
    }
  }
}
