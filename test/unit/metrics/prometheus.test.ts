import { once } from 'node:events';
import { connect } from 'node:net';
import { register as globalRegistry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type MetricsServer, PrometheusMetrics } from '../../../lib/metrics/index.ts';
import { exerciseAll, sampleValue } from './exercise.ts';

const servers: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(metrics: PrometheusMetrics): Promise<MetricsServer> {
  const server = await metrics.serve({ port: 0 });
  servers.push(server);
  return server;
}

const completedAt = new Date('2025-01-02T03:04:05.250Z');

describe('PrometheusMetrics over HTTP', () => {
  it('serves /metrics in the text exposition format on an ephemeral loopback port', async () => {
    const metrics = new PrometheusMetrics();
    const { url } = await serve(metrics);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:[1-9]\d*\/metrics$/);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('# TYPE kafka_backup_backups_total counter');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('exports no backup sample before any backup: a 0 timestamp would read as a 55-year lag', async () => {
    const text = await (await fetch((await serve(new PrometheusMetrics())).url)).text();
    expect(sampleValue(text, 'kafka_backup_last_successful_backup_timestamp')).toBeUndefined();
    expect(sampleValue(text, 'kafka_backup_backups_total')).toBeUndefined();
  });

  it('shows a backup start, its records as they arrive, and its success', async () => {
    const metrics = new PrometheusMetrics({ processMetrics: false });
    const { url } = await serve(metrics);
    const scrape = async () => (await fetch(url)).text();
    const id = { backupId: 'b-1', sourceClusterId: 'primary' };

    metrics.backupStarted(id);
    let text = await scrape();
    expect(sampleValue(text, 'kafka_backup_backups_total', { ...labels(id), outcome: 'failure' })).toBe(0);
    expect(sampleValue(text, 'kafka_backup_backups_total', { ...labels(id), outcome: 'success' })).toBe(0);
    expect(sampleValue(text, 'kafka_backup_records_total', { source_cluster_id: 'primary' })).toBe(0);

    metrics.recordsBackedUp({ sourceClusterId: 'primary', records: 10 });
    expect(sampleValue(await scrape(), 'kafka_backup_records_total')).toBe(10);
    metrics.recordsBackedUp({ sourceClusterId: 'primary', records: 5 });
    expect(sampleValue(await scrape(), 'kafka_backup_records_total')).toBe(15);

    metrics.backupSucceeded({ ...id, records: 15, storedBytes: 2048, durationMs: 1500, completedAt });
    text = await scrape();
    expect(sampleValue(text, 'kafka_backup_backups_total', { ...labels(id), outcome: 'success' })).toBe(1);
    expect(sampleValue(text, 'kafka_backup_backups_total', { ...labels(id), outcome: 'failure' })).toBe(0);
    expect(
      sampleValue(text, 'kafka_backup_last_successful_backup_timestamp', { source_cluster_id: 'primary' }),
    ).toBe(1735787045.25);
    expect(sampleValue(text, 'kafka_backup_backup_size_bytes')).toBe(2048);
    expect(sampleValue(text, 'kafka_backup_backup_records')).toBe(15);
    expect(sampleValue(text, 'kafka_backup_backup_duration_seconds')).toBe(1.5);
    // Completion does not add the manifest's records again.
    expect(sampleValue(text, 'kafka_backup_records_total')).toBe(15);
  });

  it('counts failures per backup, under "unknown" when the cluster was never reached', async () => {
    const metrics = new PrometheusMetrics({ processMetrics: false });
    const { url } = await serve(metrics);
    metrics.backupFailed({ backupId: 'b-2', sourceClusterId: 'primary' });
    metrics.backupFailed({ backupId: 'b-2', sourceClusterId: 'primary' });
    metrics.backupFailed({ backupId: 'b-3' });
    const text = await (await fetch(url)).text();
    const failures = { outcome: 'failure', source_cluster_id: 'primary', backup_id: 'b-2' };
    expect(sampleValue(text, 'kafka_backup_backups_total', failures)).toBe(2);
    expect(
      sampleValue(text, 'kafka_backup_backups_total', { backup_id: 'b-3', source_cluster_id: 'unknown' }),
    ).toBe(1);
    expect(sampleValue(text, 'kafka_backup_last_successful_backup_timestamp')).toBeUndefined();
  });

  it('records restores and DR readiness', async () => {
    const metrics = new PrometheusMetrics({ processMetrics: false });
    metrics.restoreStarted({ backupId: 'b-1', targetClusterId: 'dr' });
    metrics.recordsRestored({ targetClusterId: 'dr', records: 7 });
    metrics.restoreSucceeded({ backupId: 'b-1', targetClusterId: 'dr', groupsReset: 2, durationMs: 90_000 });
    metrics.restoreFailed({ backupId: 'latest' });
    metrics.drReady({ sourceClusterId: 'primary', ready: false });
    const text = await metrics.metrics();
    expect(
      sampleValue(text, 'kafka_backup_restores_total', { outcome: 'success', target_cluster_id: 'dr' }),
    ).toBe(1);
    expect(sampleValue(text, 'kafka_backup_restores_total', { outcome: 'failure', backup_id: 'b-1' })).toBe(
      0,
    );
    expect(
      sampleValue(text, 'kafka_backup_restores_total', { backup_id: 'latest', target_cluster_id: 'unknown' }),
    ).toBe(1);
    expect(sampleValue(text, 'kafka_backup_restore_records_total')).toBe(7);
    expect(sampleValue(text, 'kafka_backup_restore_consumer_groups_reset_total')).toBe(2);
    expect(sampleValue(text, 'kafka_backup_restore_duration_seconds')).toBe(90);
    expect(sampleValue(text, 'kafka_backup_dr_ready', { source_cluster_id: 'primary' })).toBe(0);
    metrics.drReady({ sourceClusterId: 'primary', ready: true });
    expect(sampleValue(await metrics.metrics(), 'kafka_backup_dr_ready')).toBe(1);
  });

  it('answers /healthz, 404 elsewhere, 405 for other methods', async () => {
    const { url } = await serve(new PrometheusMetrics({ processMetrics: false }));
    const health = await fetch(new URL('/healthz', url));
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok\n');
    expect((await fetch(new URL('/other', url))).status).toBe(404);
    const post = await fetch(url, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('close() stops serving, can be called twice, and does not wait for a scraper stuck mid-request', async () => {
    const server = await new PrometheusMetrics({ processMetrics: false }).serve({ port: 0 });
    expect((await fetch(server.url)).status).toBe(200);
    // Half a request: the connection is busy, not idle, so server.close() alone would wait for it.
    const stuck = connect(Number(new URL(server.url).port), '127.0.0.1').on('error', () => {});
    await once(stuck, 'connect');
    stuck.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    await new Promise((r) => setTimeout(r, 50));
    const closedBy = (ms: number) =>
      Promise.race([
        server.close().then(() => 'closed'),
        new Promise((r) => setTimeout(() => r('hung'), ms)),
      ]);
    expect(await closedBy(2_000)).toBe('closed');
    await server.close();
    await expect(fetch(server.url)).rejects.toThrow();
    stuck.destroy();
  });

  it('rejects when the port is taken', async () => {
    const first = await serve(new PrometheusMetrics({ processMetrics: false }));
    const port = Number(new URL(first.url).port);
    await expect(new PrometheusMetrics({ processMetrics: false }).serve({ port })).rejects.toThrow(
      /EADDRINUSE/,
    );
  });
});

describe('PrometheusMetrics registry', () => {
  it('uses its own registry: two instances coexist and the global one stays empty', async () => {
    const a = new PrometheusMetrics();
    const b = new PrometheusMetrics();
    exerciseAll(a);
    expect(sampleValue(await a.metrics(), 'kafka_backup_backup_size_bytes')).toBe(123_456);
    expect(sampleValue(await b.metrics(), 'kafka_backup_backup_size_bytes')).toBeUndefined();
    expect(await globalRegistry.metrics()).not.toContain('kafka_backup_');
  });

  it('leaves process metrics out when asked', async () => {
    expect(await new PrometheusMetrics({ processMetrics: false }).metrics()).not.toContain('process_cpu');
  });

  it('never throws into the caller; reports a bad value and keeps the counter intact', async () => {
    const errors: unknown[] = [];
    const metrics = new PrometheusMetrics({ processMetrics: false, onError: (e) => errors.push(e) });
    metrics.recordsBackedUp({ sourceClusterId: 'primary', records: 3 });
    expect(() => metrics.recordsBackedUp({ sourceClusterId: 'primary', records: -1 })).not.toThrow();
    expect(() => metrics.recordsBackedUp({ sourceClusterId: 'primary', records: Number.NaN })).not.toThrow();
    expect(errors).toHaveLength(2);
    expect(sampleValue(await metrics.metrics(), 'kafka_backup_records_total')).toBe(3);
  });

  it('keeps the series of the most recent backup ids only', async () => {
    const metrics = new PrometheusMetrics({ processMetrics: false, maxBackupIds: 2 });
    for (const backupId of ['b-1', 'b-2', 'b-3']) metrics.backupFailed({ backupId, sourceClusterId: 'p' });
    metrics.backupFailed({ backupId: 'b-2', sourceClusterId: 'p' }); // touched again: b-3 is now the older one
    metrics.backupFailed({ backupId: 'b-4', sourceClusterId: 'p' });
    const text = await metrics.metrics();
    const count = (backup_id: string) => sampleValue(text, 'kafka_backup_backups_total', { backup_id });
    expect([count('b-1'), count('b-2'), count('b-3'), count('b-4')]).toEqual([undefined, 2, undefined, 1]);
  });
});

function labels(id: { backupId: string; sourceClusterId: string }) {
  return { backup_id: id.backupId, source_cluster_id: id.sourceClusterId };
}
