// Proves the test ground is real: two Kafka clusters (PLAINTEXT, SASL_SSL with SCRAM) and a versioned S3 server.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Admin, type BaseOptions, Consumer, MessagesStreamModes, Producer } from '@platformatic/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { groundS3Client } from '../../tools/ground/ground.ts';
import { groundEndpoints } from '../../tools/ground/settings.ts';
import { ground, uniqueName } from '../support/ground-env.ts';

// Through the client library directly, not lib/kafka: this proves the ground, not our code.
async function roundTrip(options: Omit<BaseOptions, 'clientId'>): Promise<string[]> {
  const base = { clientId: 'smoke', ...options };
  const topic = uniqueName('smoke');
  const admin = new Admin(base);
  try {
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
    const producer = new Producer({ ...base, retries: 10 });
    await producer.send({
      messages: [
        { topic, key: Buffer.from('k1'), value: Buffer.from('one') },
        { topic, key: Buffer.from('k2'), value: Buffer.from('two') },
      ],
    });
    await producer.close();
    const consumer = new Consumer({ ...base, groupId: uniqueName('smoke-group') });
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
    const seen: string[] = [];
    for await (const message of stream) {
      seen.push(message.value!.toString());
      if (seen.length === 2) break;
    }
    await stream.close();
    await consumer.close(true);
    await admin.deleteTopics({ topics: [topic] });
    return seen;
  } finally {
    await admin.close();
  }
}

describe('test ground', () => {
  const g = ground();

  it('produces and consumes on the primary cluster over PLAINTEXT', async () => {
    expect(await roundTrip({ bootstrapBrokers: [g.primary] })).toEqual(['one', 'two']);
  });

  it('produces and consumes on the dr cluster over PLAINTEXT', async () => {
    expect(await roundTrip({ bootstrapBrokers: [g.dr] })).toEqual(['one', 'two']);
  });

  it('the two clusters are independent', async () => {
    const ids = await Promise.all(
      [g.primary, g.dr].map(async (b) => {
        const admin = new Admin({ clientId: 'smoke', bootstrapBrokers: [b] });
        const { id } = await admin.metadata({ topics: [] });
        await admin.close();
        return id;
      }),
    );
    expect(ids[0]).not.toEqual(ids[1]);
  });

  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
    it(`produces and consumes over SASL_SSL with ${mechanism}`, async () => {
      const seen = await roundTrip({
        bootstrapBrokers: [g.primarySaslSsl],
        tls: { ca: [g.caPem()] },
        sasl: { mechanism, username: 'backup-service', password: 'backup-secret' },
      });
      expect(seen).toEqual(['one', 'two']);
    });
  }

  it('rejects a wrong SCRAM password with an authentication error', async () => {
    const admin = new Admin({
      clientId: 'smoke',
      bootstrapBrokers: [g.primarySaslSsl],
      tls: { ca: [g.caPem()] },
      sasl: { mechanism: 'SCRAM-SHA-256', username: 'backup-service', password: 'wrong' },
      retries: 0,
    });
    const err = await admin.listTopics().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    await admin.close();
    const messages: string[] = [];
    const walk = (e: unknown) => {
      if (!(e instanceof Error)) return;
      messages.push(`${(e as { apiId?: string }).apiId ?? ''} ${e.message}`);
      for (const inner of (e as { errors?: unknown[] }).errors ?? []) walk(inner);
      walk(e.cause);
    };
    walk(err);
    expect(messages.join(' | ')).toMatch(/SASL_AUTHENTICATION_FAILED SASL authentication failed/);
  });

  describe('S3 server', () => {
    const s3 = groundS3Client(groundEndpoints());
    const Bucket = 'kafka-backup-test';
    const Key = `${uniqueName('smoke')}/object.bin`;
    afterAll(() => s3.destroy());

    it('puts, gets, lists and deletes objects, keeping versions of an overwrite', async () => {
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: Buffer.from('first') }));
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: Buffer.from('second') }));
      const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
      expect(await got.Body!.transformToString()).toBe('second');

      const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: Key }));
      expect(listed.Contents?.map((o) => o.Key)).toEqual([Key]);

      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: Key }));
      expect(versions.Versions?.length).toBe(2);
      const older = versions.Versions!.find((v) => !v.IsLatest)!;
      const old = await s3.send(new GetObjectCommand({ Bucket, Key, VersionId: older.VersionId }));
      expect(await old.Body!.transformToString()).toBe('first');

      await s3.send(new DeleteObjectCommand({ Bucket, Key }));
      const after = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: Key }));
      expect(after.Contents ?? []).toEqual([]);
    });
  });
});
