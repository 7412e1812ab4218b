import { resolveBackupId } from '../../format/catalog.ts';
import { validateBackup } from '../../format/validate-backup.ts';
import { outputFormat, parseCommandArgs, requireOption, storageOptions } from '../args.ts';
import { ExitCode } from '../exit-codes.ts';
import { formatBytes } from '../output.ts';
import { storeFromArgs } from '../storage-arg.ts';

const USAGE =
  'kafka-backup validate --path URL --backup-id ID|latest [--deep] [--key-file FILE | --kms-key-id KEY] [--format json|table]';

export async function validateCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values } = parseCommandArgs(
    'validate',
    argv,
    { ...storageOptions, deep: { type: 'boolean' } },
    USAGE,
  );
  if (values.help) {
    out(USAGE);
    return 0;
  }
  const store = storeFromArgs(values, requireOption(values, 'path', 'validate', USAGE));
  const id = await resolveBackupId(store, requireOption(values, 'backup-id', 'validate', USAGE));
  const report = await validateBackup(store, id, { deep: Boolean(values.deep) });
  if (outputFormat(values, 'validate') === 'json') {
    out(JSON.stringify(report, null, 2));
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
}
