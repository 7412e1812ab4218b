// Proves the test ground is real: two Kafka clusters (PLAINTEXT, SASL_SSL with SCRAM) and a versioned S3 server.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { Kafka, type KafkaConfig, logLevel, type SASLOptions } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { groundS3Client } from '../ground/ground.ts';
import { groundEndpoints } from '../ground/settings.ts';
import { ground, uniqueName } from '../support/ground-env.ts';

async function roundTrip(config: KafkaConfig): Promise<string[]> {
  const kafka = new Kafka({ ...config, logLevel: logLevel.NOTHING });
  const topic = uniqueName('smoke');
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { key: 'k1', value: 'one' },
        { key: 'k2', value: 'two' },
      ],
    });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: uniqueName('smoke-group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            seen.push(message.value!.toString());
            if (seen.length === 2) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    await admin.deleteTopics({ topics: [topic] });
    return seen;
  } finally {
    await admin.disconnect();
  }
}

describe('test ground', () => {
  const g = ground();

  it('produces and consumes on the primary cluster over PLAINTEXT', async () => {
    expect(await roundTrip({ clientId: 'smoke', brokers: [g.primary] })).toEqual(['one', 'two']);
  });

  it('produces and consumes on the dr cluster over PLAINTEXT', async () => {
    expect(await roundTrip({ clientId: 'smoke', brokers: [g.dr] })).toEqual(['one', 'two']);
  });

  it('the two clusters are independent', async () => {
    const ids = await Promise.all(
      [g.primary, g.dr].map(async (b) => {
        const admin = new Kafka({ brokers: [b], logLevel: logLevel.NOTHING }).admin();
        await admin.connect();
        const { clusterId } = await admin.describeCluster();
        await admin.disconnect();
        return clusterId;
      }),
    );
    expect(ids[0]).not.toEqual(ids[1]);
  });

  for (const mechanism of ['scram-sha-256', 'scram-sha-512'] as const) {
    it(`produces and consumes over SASL_SSL with ${mechanism}`, async () => {
      const seen = await roundTrip({
        clientId: 'smoke',
        brokers: [g.primarySaslSsl],
        ssl: { ca: [g.caPem()] },
        sasl: { mechanism, username: 'backup-service', password: 'backup-secret' } as SASLOptions,
      });
      expect(seen).toEqual(['one', 'two']);
    });
  }

  it('rejects a wrong SCRAM password with an authentication error', async () => {
    const kafka = new Kafka({
      brokers: [g.primarySaslSsl],
      ssl: { ca: [g.caPem()] },
      sasl: { mechanism: 'scram-sha-256', username: 'backup-service', password: 'wrong' },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();
    const err = await admin.connect().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.name).toBe('KafkaJSSASLAuthenticationError');
    expect(err?.message).toMatch(/SASL SCRAM SHA256 authentication failed/i);
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
