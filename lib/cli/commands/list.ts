import { loadPlan } from '../../backup/index.ts';
import { type BackupListing, backupIds, listingOf, loadManifests } from '../../format/catalog.ts';
import { outputFormat, parseCommandArgs, requireOption, storageOptions } from '../args.ts';
import { formatBytes, renderTable } from '../output.ts';
import { storeFromArgs } from '../storage-arg.ts';

const USAGE =
  'kafka-backup list --path URL [--key-file FILE | --kms-key-id KEY] [--format json|table] [--all]';

/** Complete backups oldest first, so `jq -r '.backups[-1].backup_id'` is the newest. */
export async function listCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseCommandArgs('list', argv, { ...storageOptions, all: { type: 'boolean' } }, USAGE);
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const path = requireOption(values, 'path', 'list', USAGE);
  const store = storeFromArgs(values, path);
  const backups: BackupListing[] = (await loadManifests(store)).map(listingOf);
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
  if (outputFormat(values, 'list') === 'json') {
    out(
      JSON.stringify({ location: store.location, backups, ...(values.all ? { incomplete } : {}) }, null, 2),
    );
    return 0;
  }
  const rows = [...backups, ...incomplete];
  if (rows.length === 0) {
    out(`no backups in ${store.location}`);
    return 0;
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
  return 0;
}
