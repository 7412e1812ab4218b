import { loadPlan } from '../../backup/index.ts';
import { ExitCode } from '../../errors.ts';
import { type BackupListing, backupIds, listingOf, mapManifests } from '../../format/catalog.ts';
import { defineCommand } from '../command.ts';
import { ENCRYPTION_FLAGS, FORMAT_FLAG, LOCATION_FLAGS } from '../flags.ts';
import { formatBytes, jsonDocument, renderTable } from '../output.ts';
import { storeFromArgs } from '../storage-arg.ts';

/** Complete backups oldest first, so `jq -r '.backups[-1].backup_id'` is the newest. */
export const listCommand = defineCommand(
  {
    name: 'list',
    summary: 'list the backups in a location, oldest first',
    flags: {
      path: { ...LOCATION_FLAGS.path, required: true },
      all: {
        type: 'boolean',
        description:
          'Also list unfinished runs (a plan but no manifest yet): what a resumed backup continues.',
      },
      region: LOCATION_FLAGS.region,
      's3-endpoint': LOCATION_FLAGS['s3-endpoint'],
      ...ENCRYPTION_FLAGS,
      format: FORMAT_FLAG,
    },
    examples: [
      {
        command: 'kafka-backup list --path s3://kafka-backups-primary/us-west-2/hourly --region us-west-2',
        does: "The complete backups of the guide's hourly location, oldest first.",
      },
      {
        command: "kafka-backup list --path /var/backups/kafka --format json | jq -r '.backups[-1].backup_id'",
        does: 'The id of the newest complete backup in a folder.',
      },
    ],
    env: ['KAFKA_BACKUP_S3_ENDPOINT', 'AWS_REGION', 'AWS_ENDPOINT_URL_S3', 'AWS_PROFILE'],
    json: '{format_version, location, backups: [{backup_id, status, started_at, completed_at, source_cluster_id, topics, partitions, records, stored_bytes, based_on, gaps}], incomplete: [...] (with --all)}',
    exitCodes: [ExitCode.usage, ExitCode.access],
  },
  async ({ values }, out) => {
    const store = storeFromArgs(values, values.path);
    const backups: BackupListing[] = (await mapManifests(store, listingOf)).map((x) => x.value);
    const incomplete: BackupListing[] = [];
    if (values.all) {
      for (const id of (await backupIds(store)).incomplete) {
        const plan = await loadPlan({ store }, id);
        if (!plan) continue;
        incomplete.push({
          backup_id: id,
          status: 'incomplete',
          started_at: plan.started_at,
          completed_at: null,
          source_cluster_id: plan.source_cluster_id,
          topics: plan.topics.length,
          partitions: plan.topics.reduce((n, t) => n + t.partitions.length, 0),
          records: null,
          stored_bytes: null,
          based_on: plan.based_on,
          gaps: 0,
        });
      }
    }
    if (values.format === 'json') {
      out(jsonDocument({ location: store.location, backups, ...(values.all ? { incomplete } : {}) }));
      return ExitCode.ok;
    }
    const rows = [...backups, ...incomplete];
    if (rows.length === 0) {
      out(`no backups in ${store.location}`);
      return ExitCode.ok;
    }
    out(
      renderTable(
        ['BACKUP ID', 'STATUS', 'COMPLETED', 'TOPICS', 'PARTITIONS', 'RECORDS', 'SIZE', 'GAPS', 'BASED ON'],
        rows.map((b) => [
          b.backup_id,
          b.status,
          b.completed_at ?? b.started_at,
          b.topics,
          b.partitions,
          b.records,
          b.stored_bytes === null ? null : formatBytes(b.stored_bytes),
          b.gaps,
          b.based_on,
        ]),
      ),
    );
    return ExitCode.ok;
  },
);
