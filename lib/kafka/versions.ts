// The protocol versions kafka-backup speaks, checked once per cluster against the broker's ApiVersions so an
// old broker gets a message naming what it is instead of a protocol error later.
import { KafkaAccessError } from '../errors.ts';

interface ApiRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

/** API key, name, the version we send, and the Kafka release that first supports it. */
const REQUIRED = [
  { apiKey: 1, name: 'Fetch', version: 13, since: '3.1' },
  { apiKey: 0, name: 'Produce', version: 9, since: '2.4' },
  { apiKey: 3, name: 'Metadata', version: 10, since: '2.8' },
  { apiKey: 22, name: 'InitProducerId', version: 4, since: '2.7' },
] as const;

/** Oldest Kafka release the client and we are tested with. */
export const MIN_KAFKA_VERSION = '3.5';

export function requireProtocolSupport(apis: ApiRange[], brokers: string): void {
  for (const need of REQUIRED) {
    const api = apis.find((a) => a.apiKey === need.apiKey);
    if (!api || api.maxVersion < need.version || api.minVersion > need.version) {
      const has = api ? `v${api.minVersion}-v${api.maxVersion}` : 'no version';
      const age =
        !api || api.maxVersion < need.version
          ? `older than Kafka ${need.since}`
          : 'a release that dropped it';
      throw new KafkaAccessError(
        `the brokers at ${brokers} speak ${need.name} ${has} (${age}); kafka-backup needs ${need.name} v${need.version}`,
        { hint: `Upgrade the cluster to Kafka ${MIN_KAFKA_VERSION} or later (tested with 3.9 and 4.3).` },
      );
    }
  }
}
