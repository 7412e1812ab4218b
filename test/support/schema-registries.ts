// Fresh Schema Registries (the ground's Apicurio Registry, tools/ground/schema-registry.ts) for one test file:
// ids are a registry-wide counter, so a test that checks which ids a restore keeps needs registries nothing else
// has written to. Also Avro in Confluent's wire format through avsc, as a producer's and consumer's serializer do.
import { createServer } from 'node:net';
import { join } from 'node:path';
import avro from 'avsc';
import {
  CCOMPAT_PATH,
  ensureSchemaRegistry,
  startSchemaRegistry,
  stopSchemaRegistry,
} from '../../tools/ground/schema-registry.ts';
import { groundSettings } from '../../tools/ground/settings.ts';
import { uniqueName } from './ground-env.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface FreshRegistries {
  urls: string[];
  stop(): Promise<void>;
}

export async function startFreshRegistries(count: number): Promise<FreshRegistries> {
  const settings = groundSettings();
  const log = (m: string) => console.error(`[registry] ${m}`);
  const jar = await ensureSchemaRegistry(settings.cacheDir, log);
  const runDir = join(settings.runDir, uniqueName('registries'));
  const names = Array.from({ length: count }, (_, i) => `registry-${i}`);
  const ports = await Promise.all(names.map(() => freePort()));
  await Promise.all(names.map((name, i) => startSchemaRegistry({ jar, runDir, name, port: ports[i]!, log })));
  return {
    urls: ports.map((p) => `http://127.0.0.1:${p}${CCOMPAT_PATH}`),
    stop: async () => {
      await Promise.all(names.map((name) => stopSchemaRegistry(runDir, name)));
    },
  };
}

const MEDIA = 'application/vnd.schemaregistry.v1+json';

/** Registers a schema the way a producer's serializer does (POST /subjects/{subject}/versions). */
export async function registerSchema(url: string, subject: string, schema: object | string): Promise<number> {
  const res = await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': MEDIA },
    body: JSON.stringify({ schema: typeof schema === 'string' ? schema : JSON.stringify(schema) }),
  });
  if (!res.ok) throw new Error(`register ${subject}: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: number }).id;
}

/** Confluent's wire format: magic byte 0, the schema id (4 bytes, big-endian), the Avro binary. */
export function encodeAvro(id: number, schema: object | string, value: unknown): Buffer {
  const type = avro.Type.forSchema(typeof schema === 'string' ? JSON.parse(schema) : (schema as avro.Schema));
  const header = Buffer.alloc(5);
  header.writeInt32BE(id, 1);
  return Buffer.concat([header, type.toBuffer(value)]);
}

/**
 * What a consumer's Avro deserializer does: read the id, fetch that schema from the registry
 * (GET /schemas/ids/{id}), decode the rest with it. Throws when the registry has no such id.
 */
export async function decodeAvro(url: string, bytes: Buffer): Promise<unknown> {
  if (bytes[0] !== 0) throw new Error('not in the Confluent wire format');
  const id = bytes.readInt32BE(1);
  const res = await fetch(`${url}/schemas/ids/${id}`);
  if (!res.ok) throw new Error(`schema id ${id}: HTTP ${res.status}`);
  const { schema } = (await res.json()) as { schema: string };
  const type = avro.Type.forSchema(JSON.parse(schema));
  return type.fromBuffer(bytes.subarray(5));
}
