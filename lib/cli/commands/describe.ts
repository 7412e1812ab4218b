import { loadManifest, resolveBackupId } from '../../format/catalog.ts';
import { Layout, type Manifest } from '../../format/manifest.ts';
import type { ObjectLockInfo } from '../../storage/object-store.ts';
import { outputFormat, parseCommandArgs, requireOption, storageOptions } from '../args.ts';
import { formatBytes, formatDuration, renderTable } from '../output.ts';
import { renderPartitionTable } from '../partition-table.ts';
import { storeFromArgs } from '../storage-arg.ts';

/** One line per topic deleted and created again since the earlier backup (JSON: `topics[].recreated_since`). */
function recreatedLines(m: Manifest): string[] {
  return m.topics.flatMap((t) => {
    const r = t.recreated_since;
    if (!r) return [];
    return [
      `  re-created       ${t.name}: another topic than in backup ${r.backup_id} (topic id ${r.topic_id ?? 'none'} then, ${t.topic_id ?? 'none'} now; ${r.detail}); backed up in full`,
    ];
  });
}

function lockLine(lock: ObjectLockInfo | null, until: Date | undefined): string {
  if (lock === null)
    return 'off (the bucket has no Object Lock: a principal allowed to delete versions can destroy this backup)';
  const parts: string[] = [];
  const d = lock.default_retention;
  if (d)
    parts.push(`bucket default ${d.mode} ${d.days !== undefined ? `${d.days} days` : `${d.years} years`}`);
  if (lock.on_write) parts.push(`writes ${lock.on_write.mode} ${lock.on_write.days} days`);
  if (parts.length === 0) parts.push('enabled, no default retention');
  parts.push(
    until
      ? `this backup's manifest locked until ${until.toISOString()}`
      : "this backup's manifest not locked (any more)",
  );
  return parts.join('; ');
}

const USAGE = 'kafka-backup describe --path URL --backup-id ID|latest [--format json|table]';

export async function describeCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseCommandArgs('describe', argv, storageOptions, USAGE);
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const store = storeFromArgs(values, requireOption(values, 'path', 'describe', USAGE));
  const id = await resolveBackupId(store, requireOption(values, 'backup-id', 'describe', USAGE));
  const m = await loadManifest(store, id);
  const lock = store.objectLock ? await store.objectLock() : undefined;
  const lockedUntil = store.lockedUntil ? await store.lockedUntil(Layout.manifest(m.backup_id)) : undefined;
  if (outputFormat(values, 'describe') === 'json') {
    out(
      JSON.stringify(
        lock === undefined
          ? m
          : {
              ...m,
              object_lock: {
                ...(lock ?? { enabled: false }),
                locked_until: lockedUntil?.toISOString() ?? null,
              },
            },
        null,
        2,
      ),
    );
    return 0;
  }
  out(
    [
      `backup ${m.backup_id} in ${store.location}`,
      `  source cluster   ${m.source_cluster_id} (Kafka cluster id ${m.kafka_cluster_id})`,
      `  taken            ${m.started_at} .. ${m.completed_at} (${formatDuration(m.stats.duration_ms)})`,
      `  isolation        ${m.isolation_level}; zstd level ${m.compression.level}; tool ${m.tool_version}`,
      `  records          ${m.stats.records} in ${formatBytes(m.stats.stored_bytes)} (${m.stats.segments_uploaded} segments uploaded, ${m.stats.segments_reused} reused${m.based_on ? ` from ${m.based_on}` : ''})`,
      ...recreatedLines(m),
      ...(m.metadata
        ? [
            `  metadata         ${m.metadata.parts.join(', ')} (${m.metadata.key}; kafka-backup restore-metadata applies it)`,
          ]
        : []),
      ...(lock === undefined ? [] : [`  object lock      ${lockLine(lock, lockedUntil)}`]),
      '',
      renderPartitionTable(m),
      '',
      m.consumer_groups.length === 0
        ? 'no consumer group offsets recorded'
        : renderTable(
            ['CONSUMER GROUP', 'TOPIC', 'PARTITION', 'COMMITTED OFFSET'],
            m.consumer_groups.flatMap((g) =>
              g.offsets.map((o) => [g.group_id, o.topic, o.partition, o.offset]),
            ),
          ),
      '',
      renderTable(
        ['TOPIC', 'PARTITIONS', 'REPLICATION', 'CONFIGS'],
        m.topics.map((t) => [
          t.name,
          t.partition_count,
          t.replication_factor,
          Object.entries(t.configs)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ') || null,
        ]),
      ),
    ].join('\n'),
  );
  return 0;
}
