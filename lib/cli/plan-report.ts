import { planBackup } from '../backup/index.ts';
import type { BackupConfig } from '../config/index.ts';
import { UsageError } from '../errors.ts';
import { KafkaCluster } from '../kafka/index.ts';
import type { Logger } from '../log.ts';
import { type PlannedItems, planItemsAndEstimate } from '../plan/index.ts';
import { openStore } from '../storage/index.ts';
import type { Out } from './command.ts';
import { formatBytes, formatDuration, jsonDocument, renderTable } from './output.ts';

/** The backup-plan step's default (lib/workflow/steps.ts, STEP_ENV.fargateMinOffsets). */
export const DEFAULT_FARGATE_MIN_OFFSETS = 20_000_000;
/** Rows a table shows before it is summarized. */
const MAX_ROWS = 20;

export interface PlanReportOptions {
  format: 'table' | 'json';
  fargateMinOffsets?: number;
  mapConcurrency?: number;
  priceRegion?: string;
  probe?: boolean;
}

/** A positive whole number from a flag, or a UsageError naming it. */
export function positiveIntFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new UsageError(`--${name} ${JSON.stringify(v)} is not a positive whole number`, {
      hint: `Give a number such as --${name} 10.`,
    });
  return n;
}

/**
 * `kafka-backup plan` and `backup --dry-run`: takes the cut and plans the backup as the workflow would, packs
 * the items and estimates the run, and prints it. Writes nothing to the location (no lease, no plan, no
 * metadata): it only reads the location's manifests and the source's offsets, and probes record sizes.
 */
export async function runPlanReport(
  config: BackupConfig,
  logger: Logger,
  opts: PlanReportOptions,
  out: Out,
): Promise<void> {
  const store = openStore(config.storage);
  const source = new KafkaCluster(config.source, 'source');
  try {
    const ctx = { config, store, source, logger };
    const { plan, resumed, headers } = await planBackup(ctx, { store: false });
    const planned = await planItemsAndEstimate(ctx, plan, {
      ...(headers ? { headers } : {}),
      fargateMinOffsets: opts.fargateMinOffsets ?? DEFAULT_FARGATE_MIN_OFFSETS,
      ...(opts.mapConcurrency !== undefined ? { mapConcurrency: opts.mapConcurrency } : {}),
      ...(opts.priceRegion !== undefined ? { region: opts.priceRegion } : {}),
      ...(opts.probe === false ? { probe: false } : {}),
    });
    if (opts.format === 'json') {
      out(
        jsonDocument({
          backup_id: plan.backup_id,
          location: store.location,
          source_cluster_id: plan.source_cluster_id,
          resumed,
          written: false,
          based_on: plan.based_on,
          partitions: planned.partitions,
          bytes_per_offset_from: planned.bytes_per_offset_from,
          items: planned.items,
          estimate: planned.estimate,
        }),
      );
      return;
    }
    out(
      `plan of backup ${plan.backup_id} of ${plan.source_cluster_id} into ${store.location}` +
        `${resumed ? ' (resumes its stored plan)' : ''}: nothing written`,
    );
    for (const line of renderPlanText(planned, plan.based_on)) out(line);
  } finally {
    await source.close().catch(() => undefined);
  }
}

const int = (n: number) => n.toLocaleString('en-US');
const money = (n: number) => `$${n < 0.01 && n > 0 ? n.toFixed(6) : n.toFixed(4)}`;

/** The text report: the cut, the items, what is read, the estimate. */
export function renderPlanText(planned: PlannedItems, basedOn: string | null): string[] {
  const { partitions, items, estimate: e } = planned;
  const lines: string[] = [];
  const toRead = partitions.filter((p) => p.to > p.from);
  const topics = new Map<string, { partitions: number; offsets: number; bytes: number }>();
  for (const p of partitions) {
    const t = topics.get(p.topic) ?? { partitions: 0, offsets: 0, bytes: 0 };
    t.partitions++;
    t.offsets += p.to - p.from;
    t.bytes += (p.to - p.from) * p.bytes_per_offset;
    topics.set(p.topic, t);
  }
  const from = planned.bytes_per_offset_from;
  lines.push(
    `cut: ${topics.size} topics, ${int(partitions.length)} partitions, ${int(toRead.length)} with offsets to read` +
      `${basedOn ? ` (the offsets before them are reused from ${basedOn})` : ''}; record sizes from the previous backup for ${int(from.previous_backup)}, ` +
      `a probe for ${int(from.probe)}, the default for ${int(from.default)}`,
  );
  if (partitions.length <= MAX_ROWS) {
    lines.push(
      renderTable(
        ['TOPIC', 'PARTITION', 'FROM', 'TO (CUT)', 'OFFSETS', 'BYTES/OFFSET', 'FROM WHERE'],
        partitions.map((p) => [
          p.topic,
          p.partition,
          p.from,
          p.to,
          p.to - p.from,
          p.bytes_per_offset,
          p.source,
        ]),
      ),
    );
  } else {
    const rows = [...topics].sort((a, b) => b[1].offsets - a[1].offsets || (a[0] < b[0] ? -1 : 1));
    lines.push(
      renderTable(
        ['TOPIC', 'PARTITIONS', 'OFFSETS', 'BYTES'],
        rows.slice(0, MAX_ROWS).map(([name, t]) => [name, t.partitions, t.offsets, formatBytes(t.bytes)]),
      ),
    );
    if (rows.length > MAX_ROWS)
      lines.push(`… and ${int(rows.length - MAX_ROWS)} more topics (--format json lists every partition)`);
  }
  lines.push(
    `items: ${int(items.length)} (${int(e.read.on_fargate)} on Fargate); to read: ${int(e.read.offsets)} offsets ` +
      `(records at most), ${formatBytes(e.read.bytes)}, about ${formatBytes(e.read.stored_bytes)} stored in ${int(e.read.segments)} segments`,
  );
  if (items.length > 0) {
    const shown = items.slice(0, MAX_ROWS);
    lines.push(
      renderTable(
        ['ITEM', 'RUNNER', 'RANGES', 'FIRST RANGE', 'OFFSETS', 'BYTES'],
        shown.map((i, n) => {
          const r = i.ranges[0]!;
          return [
            n + 1,
            i.runner,
            i.ranges.length,
            `${r.topic}/${r.partition} [${r.from}, ${r.to})`,
            i.offsets,
            formatBytes(i.bytes),
          ];
        }),
      ),
    );
    if (items.length > MAX_ROWS) lines.push(`… and ${int(items.length - MAX_ROWS)} more items`);
  }
  const pr = e.prices;
  lines.push(
    `estimate per run in ${pr.region}${pr.fallback_from ? ` (the table has no prices for ${pr.fallback_from})` : ''}, ` +
      `at the price table of ${pr.as_of} (${pr.kind}):`,
  );
  lines.push(
    renderTable(
      ['WHAT', 'COUNT', 'USD'],
      [
        [
          'S3 requests',
          `${int(e.s3.put)} PUT, ${int(e.s3.get)} GET, ${int(e.s3.list)} LIST`,
          money(e.s3.usd),
        ],
        [
          'Lambda',
          `${int(e.lambda.invocations)} invocations, ${e.lambda.gb_seconds} GB-s`,
          money(e.lambda.usd),
        ],
        [
          'Fargate',
          `${int(e.fargate.tasks)} tasks, ${e.fargate.vcpu_seconds} vCPU-s, ${e.fargate.gb_seconds} GB-s`,
          money(e.fargate.usd),
        ],
        [
          'Step Functions',
          `${int(e.step_functions.state_transitions)} state transitions`,
          money(e.step_functions.usd),
        ],
        ['total', '', money(e.total_usd)],
      ],
    ),
  );
  const d = e.duration;
  lines.push(
    `expected duration: ${formatDuration(d.workflow_seconds * 1000)} as the workflow, ` +
      `${formatDuration(d.cli_seconds * 1000)} as one kafka-backup backup, at ${formatBytes(d.bytes_per_second)}/s ` +
      `(measured ${d.rate_measured_at} by ${d.rate_command})`,
  );
  return lines;
}
