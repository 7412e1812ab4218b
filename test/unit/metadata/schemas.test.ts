// lib/metadata's schema capture and restore against a stand-in registry (test/support/registry-stand-in.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { SchemaRegistryConfig } from '../../../lib/config/index.ts';
import { readSchemas } from '../../../lib/metadata/capture-metadata.ts';
import { SchemaRegistryClient } from '../../../lib/metadata/index.ts';
import { applySchemaRestore, planSchemaRestore, schemaIdMap } from '../../../lib/metadata/restore-schemas.ts';
import { type RegistryStandIn, startRegistryStandIn } from '../../support/registry-stand-in.ts';

const ORDER_V1 = JSON.stringify({
  type: 'record',
  name: 'Order',
  fields: [{ name: 'id', type: 'string' }],
});
const ORDER_V2 = JSON.stringify({
  type: 'record',
  name: 'Order',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'amount', type: 'double', default: 0 },
  ],
});
const OTHER = JSON.stringify({ type: 'record', name: 'Other', fields: [{ name: 'x', type: 'int' }] });

const open: RegistryStandIn[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

async function registry(opts?: Parameters<typeof startRegistryStandIn>[0]) {
  const r = await startRegistryStandIn(opts);
  open.push(r);
  return r;
}

function client(url: string, extra: Record<string, unknown> = {}) {
  return new SchemaRegistryClient(SchemaRegistryConfig.parse({ url, ...extra }));
}

const noRenames = { topics: {}, principals: {} };

describe('schemas', () => {
  it('reads subjects, versions, ids and subject compatibility', async () => {
    const source = await registry();
    source.register('orders-value', ORDER_V1);
    source.register('orders-value', ORDER_V2);
    const c = client(source.url);
    await c.setSubjectCompatibility('orders-value', 'FULL');
    const stored = await readSchemas(c);
    expect(stored.subjects).toMatchObject([
      {
        subject: 'orders-value',
        compatibility: 'FULL',
        mode: null,
        versions: [
          { version: 1, id: 1, schema_type: 'AVRO' },
          { version: 2, id: 2, schema_type: 'AVRO' },
        ],
      },
    ]);
    expect(JSON.parse(stored.subjects[0]!.versions[1]!.schema)).toEqual(JSON.parse(ORDER_V2));
  });

  it('keeps ids in an empty target through IMPORT mode, and sets the subject back afterwards', async () => {
    const source = await registry();
    source.register('orders-value', ORDER_V1);
    source.register('orders-value', ORDER_V2);
    const stored = await readSchemas(client(source.url));
    const target = await registry({ firstId: 1 });
    const t = client(target.url);
    const plan = await planSchemaRestore(stored, t, noRenames);
    expect(plan.subjects[0]!.versions.map((v) => v.action)).toEqual(['import', 'import']);
    const report = await applySchemaRestore(plan, stored, t, noRenames);
    expect(report.subjects[0]).toMatchObject({ kept: 2, remapped: 0 });
    expect(report.id_map).toEqual({ '1': 1, '2': 2 });
    expect(target.requests).toContain('PUT /mode/orders-value?force=true');
    expect(target.requests).toContain('DELETE /mode/orders-value');
    // A second run finds everything present and changes nothing.
    const again = await planSchemaRestore(stored, t, noRenames);
    expect(again.subjects[0]!.versions.map((v) => v.action)).toEqual(['present', 'present']);
  });

  it("registers anew where the id holds another schema, and maps the records' ids", async () => {
    const source = await registry();
    source.register('orders-value', ORDER_V1); // id 1
    const stored = await readSchemas(client(source.url));
    const target = await registry();
    target.register('other-value', OTHER); // takes id 1
    const t = client(target.url);
    const plan = await planSchemaRestore(stored, t, noRenames);
    expect(plan.subjects[0]!.versions[0]).toMatchObject({ action: 'register', source_id: 1 });
    const report = await applySchemaRestore(plan, stored, t, noRenames);
    expect(report.subjects[0]).toMatchObject({ kept: 0, remapped: 1 });
    expect(report.id_map).toEqual({ '1': 2 });
    expect([...(await schemaIdMap(stored, t, noRenames))]).toEqual([[1, 2]]);
  });

  it('gives a schema whose id is taken a new id above every backed-up one, so later imports keep theirs', async () => {
    const source = await registry();
    source.register('orders-value', ORDER_V1); // id 1
    source.register('orders-value', ORDER_V2); // id 2
    const stored = await readSchemas(client(source.url));
    const target = await registry();
    target.register('other-value', OTHER); // takes id 1
    const t = client(target.url);
    const plan = await planSchemaRestore(stored, t, noRenames);
    expect(plan.subjects[0]!.versions.map((v) => v.action)).toEqual(['register', 'import']);
    const report = await applySchemaRestore(plan, stored, t, noRenames);
    expect(report.subjects[0]!.versions.map((v) => [v.version, v.source_id, v.target_id, v.outcome])).toEqual(
      [
        [1, 1, 3, 'remapped'],
        [2, 2, 2, 'kept'],
      ],
    );
    // Versions keep their numbers too.
    const back = await readSchemas(t);
    expect(
      back.subjects.find((s) => s.subject === 'orders-value')!.versions.map((v) => [v.version, v.id]),
    ).toEqual([
      [1, 3],
      [2, 2],
    ]);
  });

  it('on a registry without IMPORT mode registers everything and reports the ids it was given', async () => {
    const source = await registry();
    source.register('orders-value', ORDER_V1);
    source.register('orders-value', ORDER_V2);
    const stored = await readSchemas(client(source.url));
    const fresh = await registry({ noModes: true });
    const plan = await planSchemaRestore(stored, client(fresh.url), noRenames);
    expect(plan.import_mode).toBe(false);
    expect(plan.subjects[0]!.versions.map((v) => v.action)).toEqual(['register', 'register']);
    expect(plan.subjects[0]!.versions[0]!.why).toBe('id 1 is free there');
    // A fresh registry gives ids in order: the same ones.
    const report = await applySchemaRestore(plan, stored, client(fresh.url), noRenames);
    expect(report.subjects[0]).toMatchObject({ kept: 2, remapped: 0 });
    // One that holds a schema already gives others.
    const busy = await registry({ noModes: true });
    busy.register('other-value', OTHER);
    const b = client(busy.url);
    const busyReport = await applySchemaRestore(
      await planSchemaRestore(stored, b, noRenames),
      stored,
      b,
      noRenames,
    );
    expect(busyReport.id_map).toEqual({ '1': 2, '2': 3 });
  });

  it('follows topic_mapping from orders-value to orders-dr-value', async () => {
    const source = await registry();
    source.register('orders-value', ORDER_V1);
    const stored = await readSchemas(client(source.url));
    const target = await registry();
    const t = client(target.url);
    const renames = { topics: { orders: 'orders-dr' }, principals: {} };
    await applySchemaRestore(await planSchemaRestore(stored, t, renames), stored, t, renames);
    expect(target.subjects()).toEqual(['orders-dr-value']);
  });

  it('names the missing schemas when ids are to be rewritten before the schemas were restored', async () => {
    const source = await registry();
    source.register('orders-value', ORDER_V1);
    const stored = await readSchemas(client(source.url));
    const target = await registry();
    await expect(schemaIdMap(stored, client(target.url), noRenames)).rejects.toThrow(
      /rewrite_schema_ids: 1 backed-up schema\(s\) are not in the target registry .*orders-value version 1 \(source id 1\)/,
    );
  });

  it('sends basic auth, and says which settings to check when refused', async () => {
    const source = await registry({ basicAuth: { username: 'u', password: 'p' } });
    await expect(
      client(source.url, { basic_auth: { username: 'u', password: 'p' } }).subjects(),
    ).resolves.toEqual([]);
    const err = (await client(source.url, { basic_auth: { username: 'u', password: 'wrong' } })
      .subjects()
      .catch((e: unknown) => e)) as Error & { hint?: string };
    expect(err).toMatchObject({ name: 'SchemaRegistryAccessError' });
    expect(err.message).toMatch(/refused list subjects \(HTTP 401\)/);
    expect(err.message).not.toMatch(/wrong/);
    expect((err as { hint: string }).hint).toMatch(/schema_registry\.basic_auth/);
  });

  it('says the registry cannot be reached, naming the url field', async () => {
    const err = (await client('http://127.0.0.1:1')
      .subjects()
      .catch((e: unknown) => e)) as Error & { hint?: string };
    expect(err.message).toMatch(/cannot reach the Schema Registry at http:\/\/127\.0\.0\.1:1/);
    expect(err.hint).toMatch(/schema_registry\.url/);
  });
});
