// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the config holds a ${VAR} reference, substituted by the engine
// The serverless workflows carry cluster metadata too: the backup workflow captures schemas and ACLs at its cut,
// the failover workflow applies them in PrepareRestore, before any record is written, and its workers rewrite
// schema ids. Run locally (aws-local-stepfunctions) with the real handlers, clusters, S3 and registries.
import {
  AclOperations,
  AclPermissionTypes,
  Admin,
  Consumer,
  MessagesStreamModes,
  ResourcePatternTypes,
  ResourceTypes,
} from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaCluster } from '../../lib/kafka/index.ts';
import type { RestoreReport } from '../../lib/restore/index.ts';
import { S3Store } from '../../lib/storage/index.ts';
import { aclSnapshot } from '../support/acl-snapshot.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import { createTopic, primarySettings, produce } from '../support/kafka-fixtures.ts';
import { LocalWorkflow } from '../support/local-workflow.ts';
import {
  decodeAvro,
  encodeAvro,
  type FreshRegistries,
  registerSchema,
  startFreshRegistries,
} from '../support/schema-registries.ts';
import { synthWorkflows, type WorkflowName } from '../support/workflow-stack.ts';

const ORDER = { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'string' }] };
const TAKEN = { type: 'record', name: 'Taken', fields: [{ name: 'n', type: 'int' }] };

describe('metadata in the serverless workflows', () => {
  const g = ground();
  const primary = new KafkaCluster(primarySettings(), 'source');
  const admin = new Admin({ clientId: 'metadata-wf', bootstrapBrokers: [g.primary] });
  const drAdmin = new Admin({ clientId: 'metadata-wf', bootstrapBrokers: [g.dr] });
  const prefix = `${uniqueName('wf-meta')}/hourly`;
  const west = {
    backend: 's3',
    bucket: 'kafka-backups-primary',
    region: 'us-west-2',
    prefix,
    endpoint: g.s3WestEndpoint,
  };
  const east = {
    backend: 's3',
    bucket: 'kafka-backups-dr',
    region: 'us-east-1',
    prefix,
    endpoint: g.s3Endpoint,
  };
  const principal = `User:${uniqueName('wf-app')}`;
  let definitions: Record<WorkflowName, unknown>;
  let registries: FreshRegistries;
  let topic: string;
  let sourceId: number;
  let restoreDrAcls: () => Promise<void> = async () => undefined;
  const group = uniqueName('wf-avro-group');

  beforeAll(async () => {
    process.env['POWERTOOLS_LOG_LEVEL'] = 'WARN';
    definitions = synthWorkflows().definitions;
    restoreDrAcls = await aclSnapshot(drAdmin);
    registries = await startFreshRegistries(2);
    const [, drRegistry] = registries.urls as [string, string];
    // The DR registry's first id holds another schema: the order schema's id is taken there.
    await registerSchema(drRegistry, 'taken-value', TAKEN);
    topic = await createTopic(primary, { prefix: 'wf-avro' });
    sourceId = await registerSchema(registries.urls[0]!, `${topic}-value`, ORDER);
    await produce(
      primary,
      topic,
      ['a', 'b', 'c'].map((id) => ({ key: null, value: encodeAvro(sourceId, ORDER, { id }) })),
    );
    // The failover moves consumer groups: one has read the first order.
    await primary.setCommittedOffsets(group, topic, [{ partition: 0, offset: 1 }]);
    await admin.createAcls({
      creations: [
        {
          resourceType: ResourceTypes.TOPIC,
          resourceName: topic,
          resourcePatternType: ResourcePatternTypes.LITERAL,
          principal,
          host: '*',
          operation: AclOperations.READ,
          permissionType: AclPermissionTypes.ALLOW,
        },
      ],
    });
  }, 240_000);

  afterAll(async () => {
    const filter = {
      resourceType: ResourceTypes.ANY,
      resourceName: null,
      resourcePatternType: ResourcePatternTypes.ANY,
      principal,
      host: null,
      operation: AclOperations.ANY,
      permissionType: AclPermissionTypes.ANY,
    };
    await admin.deleteAcls({ filters: [filter] }).catch(() => undefined);
    // The failover copied every ACL of the primary: remove all it added to DR.
    await restoreDrAcls().catch(() => undefined);
    await registries?.stop();
    await admin.close();
    await drAdmin.close();
    await primary.close();
  });

  it('backup captures schemas and ACLs; failover applies them in PrepareRestore, then rewrites the records', async () => {
    const [sourceRegistry, drRegistry] = registries.urls as [string, string];
    const backup = new LocalWorkflow(definitions.backup);
    const backed = (await backup.run({
      config: {
        mode: 'backup',
        backup_id: uniqueName('wf-meta-backup'),
        source: { bootstrap_servers: [g.primary], topics: { include: [topic] } },
        storage: west,
        schema_registry: { url: sourceRegistry },
        backup: { metadata: ['schemas', 'acls'], consumer_groups: [group] },
      },
    })) as { backup_id: string; metadata?: { parts: string[] } };
    expect(backed.backup_id).toBeTruthy();

    // S3 replication, as the other tests stand in for it: copy the location west -> east.
    const from = new S3Store({ bucket: west.bucket, prefix, region: west.region, endpoint: west.endpoint });
    const to = new S3Store({ bucket: east.bucket, prefix, region: east.region, endpoint: east.endpoint });
    for (const key of await from.list('')) await to.put(key, await from.get(key));
    from.destroy();
    to.destroy();

    const failover = new LocalWorkflow(definitions.failover);
    const report = (await failover.run({
      config: {
        mode: 'restore',
        backup_id: '${BACKUP_ID}',
        target: { bootstrap_servers: [g.dr] },
        storage: east,
        schema_registry: { url: drRegistry },
        restore: {
          metadata: ['schemas', 'acls'],
          rewrite_schema_ids: true,
          reset_consumer_offsets: true,
          consumer_groups: [group],
        },
      },
    })) as RestoreReport;
    expect(report.ok).toBe(true);

    const prepared = failover.callsOf('PrepareRestore')[0]!.output as { metadata: Record<string, unknown> };
    expect(prepared.metadata).toMatchObject({
      applied: true,
      parts: ['schemas', 'acls'],
      schemas_kept: 0,
      schemas_remapped: 1,
    });
    // Every ACL of the primary is restored (the ground's primary may hold other tests' too): ours among them.
    expect(prepared.metadata['acls_created']).toBeGreaterThanOrEqual(1);
    // Metadata before data: PrepareRestore ran before the first RestorePartition.
    const order = failover.calls.map((c) => c.state);
    expect(order.indexOf('PrepareRestore')).toBeLessThan(order.indexOf('RestorePartition'));

    const acls = await drAdmin.describeAcls({
      filter: {
        resourceType: ResourceTypes.TOPIC,
        resourceName: topic,
        resourcePatternType: ResourcePatternTypes.LITERAL,
        principal,
        host: null,
        operation: AclOperations.ANY,
        permissionType: AclPermissionTypes.ANY,
      },
    });
    expect(acls.flatMap((r) => r.acls.map((a) => a.operation))).toEqual([AclOperations.READ]);

    // A consumer on DR reads the orders back through the DR registry: the records carry the DR ids.
    const consumer = new Consumer({
      clientId: 'wf-avro-reader',
      bootstrapBrokers: [g.dr],
      groupId: uniqueName('wf-avro-reader'),
    });
    const values: unknown[] = [];
    try {
      const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
      for await (const m of stream) {
        values.push(await decodeAvro(drRegistry, m.value as Buffer));
        if (values.length === 3) break;
      }
      await stream.close();
    } finally {
      await consumer.close(true);
    }
    expect(values).toEqual([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
  });
});
