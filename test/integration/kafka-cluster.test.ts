import { afterAll, describe, expect, it } from 'vitest';
import { KafkaCluster } from '../../lib/kafka/index.ts';
import { uniqueName } from '../support/ground-env.ts';
import { buf, drSettings, produce } from '../support/kafka-fixtures.ts';

describe('lib/kafka cluster admin', () => {
  const cluster = new KafkaCluster(drSettings(), 'target');
  afterAll(() => cluster.close());

  it('re-creates a topic right after deleting it (a re-run restore or drill), ready for writes', async () => {
    const name = uniqueName('recreate');
    for (let round = 0; round < 3; round++) {
      await cluster.createTopic({
        name,
        partitions: 3,
        replicationFactor: 1,
        configs: { 'retention.ms': '3600000' },
      });
      const offsets = await cluster.partitionOffsets(name);
      expect(offsets.map((o) => o.end)).toEqual([0, 0, 0]);
      await produce(cluster, name, [{ key: null, value: buf(`round ${round}`), partition: 2 }]);
      expect((await cluster.partitionOffsets(name)).map((o) => o.end)).toEqual([0, 0, 1]);
      await cluster.deleteTopics([name]);
    }
  });

  it("tells one partition's end without the others' (what a restore of that partition asks)", async () => {
    const name = uniqueName('end');
    await cluster.createTopic({ name, partitions: 4, replicationFactor: 1, configs: {} });
    try {
      await produce(
        cluster,
        name,
        [1, 3, 3, 3].map((p, i) => ({ key: null, value: buf(`r${i}`), partition: p })),
      );
      expect(await Promise.all([0, 1, 2, 3].map((p) => cluster.partitionEnd(name, p)))).toEqual([0, 1, 0, 3]);
      expect((await cluster.partitionOffsets(name)).map((o) => o.end)).toEqual([0, 1, 0, 3]);
    } finally {
      await cluster.deleteTopics([name]);
    }
  });
});
