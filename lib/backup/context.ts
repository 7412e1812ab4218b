import type { BackupConfig } from '../config/index.ts';
import type { KafkaCluster } from '../kafka/index.ts';
import type { Logger } from '../log.ts';
import type { ObjectStore } from '../storage/object-store.ts';

/** What every backup step works with. The CLI, the Lambda handlers and the Fargate task build one the same way. */
export interface BackupContext {
  config: BackupConfig;
  store: ObjectStore;
  source: KafkaCluster;
  logger: Logger;
  now?: () => Date;
  /**
   * For tests only: write format-1 segments and manifests, as kafka-backup did before format 2, so that tests
   * make real format-1 backups (and incremental chains mixing both) from the same code path.
   */
  segmentFormat?: 1 | 2;
}

export function nowOf(ctx: { now?: () => Date }): Date {
  return ctx.now ? ctx.now() : new Date();
}
