import { ExitCode } from '../../errors.ts';
import { resolveBackupId } from '../../format/catalog.ts';
import { validateBackup } from '../../format/validate-backup.ts';
import { defineCommand } from '../command.ts';
import { ENCRYPTION_FLAGS, FORMAT_FLAG, LOCATION_FLAGS } from '../flags.ts';
import { formatBytes, jsonDocument } from '../output.ts';
import { storeFromArgs } from '../storage-arg.ts';

export const validateCommand = defineCommand(
  {
    name: 'validate',
    summary: 'check a backup; --deep reads and checksums every segment',
    description: [
      'Checks that every segment the manifest names exists with its recorded size; with --deep it reads every ' +
        'segment and verifies its SHA-256, record counts and offset ranges. Every bad object is named.',
    ],
    flags: {
      path: { ...LOCATION_FLAGS.path, required: true },
      'backup-id': { ...LOCATION_FLAGS['backup-id'], required: true },
      deep: {
        type: 'boolean',
        description:
          'Read and checksum every segment (SHA-256, record counts, offsets), not only check it exists.',
      },
      region: LOCATION_FLAGS.region,
      's3-endpoint': LOCATION_FLAGS['s3-endpoint'],
      ...ENCRYPTION_FLAGS,
      format: FORMAT_FLAG,
    },
    examples: [
      {
        command:
          'kafka-backup validate --path s3://kafka-backups-primary/us-west-2/hourly --backup-id latest --deep',
        does: 'Read back every segment of the newest backup and verify it.',
      },
    ],
    env: ['KAFKA_BACKUP_S3_ENDPOINT', 'AWS_REGION', 'AWS_ENDPOINT_URL_S3', 'AWS_PROFILE'],
    json: '{format_version, backup_id, location, deep, ok, segments_checked, records_checked, bytes_checked, problems: [{object, problem}]}',
    exitCodes: [ExitCode.usage, ExitCode.access, ExitCode.notFound, ExitCode.verificationFailed],
  },
  async ({ values }, out) => {
    const store = storeFromArgs(values, values.path);
    const id = await resolveBackupId(store, values['backup-id']);
    const report = await validateBackup(store, id, { deep: Boolean(values.deep) });
    if (values.format === 'json') {
      out(jsonDocument(report));
    } else if (report.ok) {
      out(
        `backup ${id} is valid (${report.deep ? 'deep' : 'shallow'}): ${report.segments_checked} segments` +
          (report.deep
            ? `, ${report.records_checked} records, ${formatBytes(report.bytes_checked)} read and checksummed`
            : ''),
      );
    } else {
      out(`backup ${id} is INVALID: ${report.problems.length} problem(s)`);
      for (const p of report.problems) out(`  ${p.object}: ${p.problem}`);
    }
    return report.ok ? ExitCode.ok : ExitCode.verificationFailed;
  },
);
