import type { RestoreConfig } from '../config/index.ts';
import type { KafkaCluster } from '../kafka/index.ts';
import type { Logger } from '../log.ts';
import type { ObjectStore } from '../storage/object-store.ts';

export interface RestoreContext {
  config: RestoreConfig;
  store: ObjectStore;
  target: KafkaCluster;
  logger: Logger;
  now?: () => Date;
  /**
   * Called on every record's key and value before it is written (restore.rewrite_schema_ids: lib/metadata's
   * schemaIdRewriteFor); returns them unchanged or rewritten. Absent: records are written as backed up.
   */
  rewriteRecord?: (key: Buffer | null, value: Buffer | null) => { key: Buffer | null; value: Buffer | null };
}
