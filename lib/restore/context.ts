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
}
