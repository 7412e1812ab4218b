import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  EXTERNAL_METRIC_NAMES,
  METRIC_NAMES,
  METRICS,
  PrometheusMetrics,
} from '../../../lib/metrics/index.ts';
import { exerciseAll, parseExposition } from './exercise.ts';

const root = new URL('../../../deploy/monitoring/', import.meta.url);

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}

function ruleExprs(): { where: string; expr: string }[] {
  const doc = parse(readFileSync(new URL('prometheus-rules.yaml', root), 'utf8')) as {
    spec: { groups: { name: string; rules: Rule[] }[] };
  };
  return doc.spec.groups.flatMap((g) =>
    g.rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: String(r.expr) })),
  );
}

interface Panel {
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

function dashboard(): { panels: Panel[] } {
  return JSON.parse(readFileSync(new URL('grafana-dashboard.json', root), 'utf8'));
}

function dashboardExprs(): { where: string; expr: string }[] {
  const walk = (panels: Panel[]): { where: string; expr: string }[] =>
    panels.flatMap((p) => [
      ...(p.targets ?? []).flatMap((t) => (t.expr ? [{ where: `panel ${p.title}`, expr: t.expr }] : [])),
      ...walk(p.panels ?? []),
    ]);
  return walk(dashboard().panels);
}

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'bool',
  'and',
  'or',
  'unless',
  'inf',
  'nan',
]);

/**
 * Metric names in a PromQL expression: every identifier that is not a function call, keyword, label name
 * (inside {} or a by/on clause), string, duration or Grafana variable. Wider than `kafka_backup_[a-z_]+` on
 * purpose: a misspelt `kafka_backups_total` must be caught too.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ');
  const names = [...stripped.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()/g)].map((m) => m[1]!);
  return names.filter((n) => !KEYWORDS.has(n.toLowerCase()));
}

describe('metricNames (the extractor the checks below rely on)', () => {
  it('finds metrics and nothing else', () => {
    expect(
      metricNames(
        'sum by (source_cluster_id) (increase(kafka_backup_backups_total{outcome="failure", x=~"a b"}[15m])) > 0 or time() - kafka_backups_total offset 5m > 7200 * 1e3',
      ),
    ).toEqual(['kafka_backup_backups_total', 'kafka_backups_total']);
  });
});

describe('monitoring rules and dashboard against the catalogue', () => {
  const exprs = [...ruleExprs(), ...dashboardExprs()];
  const recorder = new PrometheusMetrics({ processMetrics: false });
  exerciseAll(recorder);
  const exposed = recorder.metrics().then((text) => new Set(parseExposition(text).map((s) => s.name)));

  it('reads the alerts and panels the seed defines', () => {
    expect(ruleExprs().map((r) => r.where)).toEqual([
      'rule KafkaBackupFailed',
      'rule KafkaBackupLag',
      'rule S3ReplicationLag',
      'rule DRNotReady',
    ]);
    const titles = dashboardExprs().map((e) => e.where);
    for (const t of [
      'Backup Status',
      'Replication Lag',
      'Backup Size Trend',
      'Records Backed Up',
      'Restores',
    ]) {
      expect(titles).toContain(`panel ${t}`);
    }
  });

  it.each(exprs)('$where names only emitted (or declared external) metrics', async ({ expr }) => {
    const names = metricNames(expr);
    expect(names.length).toBeGreaterThan(0);
    const samples = await exposed;
    for (const name of names) {
      if (EXTERNAL_METRIC_NAMES.includes(name)) continue;
      expect(METRIC_NAMES, `${name} is not in lib/metrics/names.ts`).toContain(name);
      expect(samples.has(name), `${name} is catalogued but no recorder method exports a sample of it`).toBe(
        true,
      );
    }
  });

  it('the failure alert does not compare a raw counter', () => {
    const failed = ruleExprs().find((r) => r.where === 'rule KafkaBackupFailed')!.expr;
    expect(failed).toMatch(/increase\(kafka_backup_backups_total\{outcome="failure"\}\[15m\]\)\s*>\s*0/);
  });

  it('the replication lag gauge keeps the seed thresholds', () => {
    const gauge = dashboard().panels.find((p) => p.title === 'Replication Lag') as unknown as {
      fieldConfig: { defaults: { thresholds: { steps: { color: string; value: number | null }[] } } };
    };
    expect(gauge.fieldConfig.defaults.thresholds.steps).toEqual([
      { color: 'green', value: null },
      { color: 'yellow', value: 3600 },
      { color: 'red', value: 7200 },
    ]);
  });

  it('every catalogued metric is exported, with its declared type', async () => {
    const text = await recorder.metrics();
    const samples = await exposed;
    for (const def of Object.values(METRICS)) {
      expect(samples.has(def.name), def.name).toBe(true);
      expect(text).toContain(`# TYPE ${def.name} ${def.kind}\n`);
    }
  });

  it('catalogue names are Prometheus-conventional', () => {
    for (const def of Object.values(METRICS)) {
      expect(def.name).toMatch(/^kafka_backup_[a-z][a-z_]*[a-z]$/);
      expect(def.name.endsWith('_total')).toBe(def.kind === 'counter');
    }
    expect(new Set(METRIC_NAMES).size).toBe(METRIC_NAMES.length);
  });
});
