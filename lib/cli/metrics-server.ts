import type { MetricsConfig } from '../config/index.ts';
import type { Logger } from '../log.ts';
import { type MetricsRecorder, noopMetrics, PrometheusMetrics } from '../metrics/index.ts';

export interface CliMetrics {
  recorder: MetricsRecorder;
  /** Stops serving, or with keep_serving waits until the process is interrupted (so Prometheus scrapes the result). */
  finish(): Promise<void>;
}

/** `/metrics` while a command runs, when `metrics.prometheus_port` (or --metrics-port) is set. */
export async function startCliMetrics(
  config: MetricsConfig | undefined,
  flags: { port?: string | undefined; host?: string | undefined; keepServing?: boolean | undefined },
  logger: Logger,
): Promise<CliMetrics> {
  const port = flags.port !== undefined ? Number(flags.port) : config?.prometheus_port;
  if (port === undefined || Number.isNaN(port)) return { recorder: noopMetrics, finish: async () => {} };
  const metrics = new PrometheusMetrics({
    onError: (e) => logger.warn('metrics error', { error: String(e) }),
  });
  const server = await metrics.serve({
    port,
    host: flags.host ?? process.env['KAFKA_BACKUP_METRICS_HOST'] ?? '127.0.0.1',
  });
  logger.info('serving Prometheus metrics', { url: server.url });
  const keep = flags.keepServing ?? config?.keep_serving ?? false;
  return {
    recorder: metrics,
    async finish() {
      if (keep) {
        logger.info('run finished; still serving metrics until interrupted (Ctrl-C)', { url: server.url });
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
      }
      await server.close();
    },
  };
}
