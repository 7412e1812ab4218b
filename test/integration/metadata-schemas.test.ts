// Avro records whose schemas live in a real Schema Registry (Apicurio Registry, Confluent-compatible API) back up
// with their schemas and restore into another registry; consumers of the restored topic deserialize them, with
// the ids kept and with the ids remapped (rewrite_schema_ids). Records are produced and consumed the way
// Confluent's Avro serializers do it (avsc for Avro, the registry over HTTP), independently of lib/metadata.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Consumer, MessagesStreamModes } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaCluster } from '../../lib/kafka/index.ts';
import { runCli, tempDir, writeConfig } from '../support/cli.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import { createTopic, drSettings, primarySettings, produce } from '../support/kafka-fixtures.ts';
import {
  decodeAvro,
  encodeAvro,
  type FreshRegistries,
  registerSchema,
  startFreshRegistries,
} from '../support/schema-registries.ts';

const ORDER_V1 = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [{ name: 'id', type: 'string' }],
};
const ORDER_V2 = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'amount', type: 'double', default: 0 },
  ],
};
const UNRELATED = [
  { type: 'record', name: 'Unrelated1', fields: [{ name: 'a', type: 'int' }] },
  { type: 'record', name: 'Unrelated2', fields: [{ name: 'b', type: 'long' }] },
  { type: 'record', name: 'Unrelated3', fields: [{ name: 'c', type: 'boolean' }] },
];

const ORDERS = [
  { version: 1, value: { id: 'o-1' } },
  { version: 2, value: { id: 'o-2', amount: 12.5 } },
  { version: 1, value: { id: 'o-3' } },
  { version: 2, value: { id: 'o-4', amount: 99 } },
];

describe('schemas with Avro records', () => {
  const g = ground();
  const dir = tempDir();
  const primary = new KafkaCluster(primarySettings(), 'source');
  const dr = new KafkaCluster(drSettings(), 'target');
  const backupId = uniqueName('schemas');
  let registries: FreshRegistries;
  let source: string;
  let keptTarget: string;
  let busyTarget: string;
  let emptyTarget: string;
  let topic: string;
  const ids = { key: 0, v1: 0, v2: 0 };

  beforeAll(async () => {
    // Started together: their JVMs' start-up overlaps.
    registries = await startFreshRegistries(4);
    [source, keptTarget, busyTarget, emptyTarget] = registries.urls as [string, string, string, string];
    // The third registry has schemas already: the backed-up ids are taken there by other schemas.
    for (const [i, s] of UNRELATED.entries()) await registerSchema(busyTarget, `unrelated-${i}-value`, s);

    topic = await createTopic(primary, { prefix: 'avro-orders' });
    ids.key = await registerSchema(source, `${topic}-key`, '"string"');
    ids.v1 = await registerSchema(source, `${topic}-value`, ORDER_V1);
    ids.v2 = await registerSchema(source, `${topic}-value`, ORDER_V2);
    await produce(
      primary,
      topic,
      ORDERS.map((o) => ({
        key: encodeAvro(ids.key, '"string"', o.value.id),
        value: encodeAvro(o.version === 1 ? ids.v1 : ids.v2, o.version === 1 ? ORDER_V1 : ORDER_V2, o.value),
      })),
    );
  }, 240_000);

  afterAll(async () => {
    await registries?.stop();
    await primary.close();
    await dr.close();
  });

  it('captures subjects, versions, ids and compatibility with the backup', async () => {
    const config = writeConfig(
      dir,
      'backup.yaml',
      `mode: backup
backup_id: ${backupId}
source:
  bootstrap_servers: ["${g.primary}"]
  topics:
    include: ["${topic}"]
storage:
  path: ${dir}/store
schema_registry:
  url: ${source}
backup:
  metadata: [schemas]
`,
    );
    const r = await runCli(['backup', '--config', config]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const metadata = JSON.parse(
      readFileSync(join(dir, 'store', 'backups', backupId, 'metadata.json'), 'utf8'),
    );
    expect(metadata.schemas.registry_url).toBe(source);
    const bySubject = Object.fromEntries(
      metadata.schemas.subjects.map((s: { subject: string }) => [s.subject, s]),
    );
    expect(
      bySubject[`${topic}-value`].versions.map((v: { version: number; id: number }) => [v.version, v.id]),
    ).toEqual([
      [1, ids.v1],
      [2, ids.v2],
    ]);
    expect(bySubject[`${topic}-key`].versions.map((v: { id: number }) => v.id)).toEqual([ids.key]);
    expect(JSON.parse(bySubject[`${topic}-value`].versions[1].schema)).toMatchObject({ name: 'Order' });
  });

  function restoreConfig(name: string, o: { target: string; registry: string; rewrite: boolean }): string {
    return writeConfig(
      dir,
      `${name}.yaml`,
      `mode: restore
backup_id: ${backupId}
target:
  bootstrap_servers: ["${g.dr}"]
storage:
  path: ${dir}/store
schema_registry:
  url: ${o.registry}
restore:
  metadata: [schemas]
  rewrite_schema_ids: ${o.rewrite}
  topic_mapping:
    ${topic}: ${o.target}
`,
    );
  }

  /** A plain consumer group of the client library reads the restored topic from the start. */
  async function consumed(t: string): Promise<{ key: Buffer | null; value: Buffer | null }[]> {
    const consumer = new Consumer({
      clientId: 'avro-reader',
      bootstrapBrokers: [g.dr],
      groupId: uniqueName('avro-reader'),
    });
    const out: { key: Buffer | null; value: Buffer | null }[] = [];
    try {
      const stream = await consumer.consume({ topics: [t], mode: MessagesStreamModes.EARLIEST });
      for await (const m of stream) {
        out.push({ key: m.key as Buffer | null, value: m.value as Buffer | null });
        if (out.length === ORDERS.length) break;
      }
      await stream.close();
    } finally {
      await consumer.close(true);
    }
    return out;
  }

  async function decodeAll(t: string, registry: string) {
    const out: unknown[] = [];
    for (const r of await consumed(t))
      out.push({ key: await decodeAvro(registry, r.key!), value: await decodeAvro(registry, r.value!) });
    return out;
  }

  const expected = () => ORDERS.map((o) => ({ key: o.value.id, value: { amount: 0, ...o.value } }));
  const normalise = (xs: unknown[]) =>
    (xs as { key: string; value: { id: string; amount?: number } }[]).map((x) => ({
      key: x.key,
      value: { amount: x.value.amount ?? 0, id: x.value.id },
    }));

  it('restores into an empty registry keeping every id; consumers deserialize the restored topic', async () => {
    const target = `${topic}-kept`;
    const config = restoreConfig('kept', { target, registry: keptTarget, rewrite: true });
    const plan = await runCli(['restore-metadata', '--config', config]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(`${topic}-value -> ${target}-value`);
    expect(plan.stdout).toMatch(/nothing applied \(dry run\)/);
    // Nothing was registered by the plan.
    expect(await (await fetch(`${keptTarget}/subjects`)).json()).toEqual([]);

    const applied = await runCli(['restore-metadata', '--config', config, '--apply']);
    expect(applied.stderr).not.toMatch(/error/i);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`${target}-value: 2 kept, 0 remapped`);
    expect(applied.stdout).toContain(`${target}-key: 1 kept, 0 remapped`);

    const restored = await runCli(['restore', '--config', config]);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/schema ids: 0 key\(s\)\/value\(s\) rewritten/);
    const records = await consumed(target);
    expect(records.map((r) => r.value!.readInt32BE(1))).toEqual(
      ORDERS.map((o) => (o.version === 1 ? ids.v1 : ids.v2)),
    );
    expect(normalise(await decodeAll(target, keptTarget))).toEqual(normalise(expected()));
  });

  it('restores into a registry whose ids are taken, remapping them and rewriting the records to the new ids', async () => {
    const target = `${topic}-remapped`;
    const config = restoreConfig('remapped', { target, registry: busyTarget, rewrite: true });
    const applied = await runCli(['restore-metadata', '--config', config, '--apply']);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`${target}-value: 0 kept, 2 remapped`);
    const newIds = {
      v1: await lookup(busyTarget, `${target}-value`, ORDER_V1),
      v2: await lookup(busyTarget, `${target}-value`, ORDER_V2),
    };
    expect(newIds.v1).not.toBe(ids.v1);
    expect(newIds.v2).not.toBe(ids.v2);

    const restored = await runCli(['restore', '--config', config]);
    expect(restored.code).toBe(0);
    // Every key and every value carried a schema id, and each was rewritten.
    expect(restored.stdout).toMatch(
      new RegExp(`schema ids: ${ORDERS.length * 2} key\\(s\\)/value\\(s\\) rewritten`),
    );
    const records = await consumed(target);
    expect(records.map((r) => r.value!.readInt32BE(1))).toEqual(
      ORDERS.map((o) => (o.version === 1 ? newIds.v1 : newIds.v2)),
    );
    expect(normalise(await decodeAll(target, busyTarget))).toEqual(normalise(expected()));
  });

  it('without rewrite_schema_ids the restored records keep ids that name other schemas in that registry', async () => {
    const target = `${topic}-raw`;
    const config = restoreConfig('raw', { target, registry: busyTarget, rewrite: false });
    const restored = await runCli(['restore', '--config', config]);
    expect(restored.code).toBe(0);
    const records = await consumed(target);
    expect(records.map((r) => r.value!.readInt32BE(1))).toEqual(
      ORDERS.map((o) => (o.version === 1 ? ids.v1 : ids.v2)),
    );
    // Those ids hold the unrelated schemas there: a consumer cannot read the orders back.
    const decoded = await Promise.all(
      records.map((r) => decodeAvro(busyTarget, r.value!).catch(() => 'undecodable')),
    );
    expect(decoded).not.toEqual(ORDERS.map((o) => ({ amount: 0, ...o.value })));
    expect(decoded.some((d) => JSON.stringify(d).includes('o-1'))).toBe(false);
  });

  it('says to restore the schemas first when rewrite_schema_ids finds them missing', async () => {
    const config = restoreConfig('missing', {
      target: `${topic}-missing`,
      registry: emptyTarget,
      rewrite: true,
    });
    const r = await runCli(['restore', '--config', config]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/rewrite_schema_ids: 3 backed-up schema\(s\) are not in the target registry/);
    expect(r.stderr).toMatch(/kafka-backup restore-metadata --config FILE --apply/);
  });
});

async function lookup(url: string, subject: string, schema: object): Promise<number> {
  const res = await fetch(`${url}/subjects/${encodeURIComponent(subject)}`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify(schema) }),
  });
  if (!res.ok) throw new Error(`lookup ${subject}: HTTP ${res.status}`);
  return ((await res.json()) as { id: number }).id;
}
