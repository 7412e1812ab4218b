import { ExitCode } from '../../errors.ts';
import { loadManifest, resolveBackupId } from '../../format/catalog.ts';
import { Layout, type Manifest } from '../../format/manifest.ts';
import type { ObjectLockInfo } from '../../storage/object-store.ts';
import { defineCommand } from '../command.ts';
import { ENCRYPTION_FLAGS, FORMAT_FLAG, LOCATION_FLAGS } from '../flags.ts';
import { formatBytes, formatDuration, jsonDocument, renderTable } from '../output.ts';
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

export const describeCommand = defineCommand(
  {
    name: 'describe',
    summary: 'show one backup: cut, partitions, consumer groups, topic configs',
    description: [
      "Prints the backup's manifest (docs/format.md) for people: the cut per partition, gaps, the consumer-group " +
        "offsets at the cut, topic configs, topics re-created since the earlier backup, and for S3 the bucket's " +
        'Object Lock and until when the manifest is locked.',
    ],
    flags: {
      path: { ...LOCATION_FLAGS.path, required: true },
      'backup-id': { ...LOCATION_FLAGS['backup-id'], required: true },
      region: LOCATION_FLAGS.region,
      's3-endpoint': LOCATION_FLAGS['s3-endpoint'],
      ...ENCRYPTION_FLAGS,
      format: FORMAT_FLAG,
    },
    examples: [
      {
        command:
          'kafka-backup describe --path s3://kafka-backups-primary/us-west-2/hourly --backup-id latest',
        does: 'The newest complete backup of the location.',
      },
      {
        command:
          "kafka-backup describe --path /var/backups/kafka --backup-id b-1 --format json | jq '.topics[].name'",
        does: 'The topics of backup b-1, from its manifest.',
      },
    ],
    env: ['KAFKA_BACKUP_S3_ENDPOINT', 'AWS_REGION', 'AWS_ENDPOINT_URL_S3', 'AWS_PROFILE'],
    json: 'the manifest (docs/format.md, whose format_version it keeps), plus object_lock: {enabled, default_retention, on_write, locked_until} for S3 locations, client_side_encryption (how the location is encrypted, never key material) when it is',
    exitCodes: [ExitCode.usage, ExitCode.access, ExitCode.notFound, ExitCode.verificationFailed],
  },
  async ({ values }, out) => {
    const store = storeFromArgs(values, values.path);
    const id = await resolveBackupId(store, values['backup-id']);
    const m = await loadManifest(store, id);
    const lock = store.objectLock ? await store.objectLock() : undefined;
    const lockedUntil = store.lockedUntil ? await store.lockedUntil(Layout.manifest(m.backup_id)) : undefined;
    const encryption = store.describeEncryption?.();
    if (values.format === 'json') {
      out(
        jsonDocument({
          ...m,
          ...(lock === undefined
            ? {}
            : {
                object_lock: {
                  ...(lock ?? { enabled: false }),
                  locked_until: lockedUntil?.toISOString() ?? null,
                },
              }),
          ...(encryption ? { client_side_encryption: encryption } : {}),
        }),
      );
      return ExitCode.ok;
    }
    out(describeText(m, store.location, lock, lockedUntil, encryption));
    return ExitCode.ok;
  },
);

function describeText(
  m: Manifest,
  location: string,
  lock: ObjectLockInfo | null | undefined,
  lockedUntil: Date | undefined,
  encryption: string | undefined,
): string {
  return [
    `backup ${m.backup_id} in ${location}`,
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
    ...(encryption ? [`  encryption       ${encryption}`] : []),
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
  ].join('\n');
}
