import {
  AuthenticationError,
  MultipleErrors,
  NetworkError,
  ProtocolError,
  ResponseError,
  UserError,
} from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { KafkaAccessError, KafkaTransientError } from '../../../lib/errors.ts';
import { classifyKafkaError, translateKafkaError } from '../../../lib/kafka/errors.ts';
import { withRetry } from '../../../lib/kafka/retry.ts';
import { requireProtocolSupport } from '../../../lib/kafka/versions.ts';

// Error shapes as the client throws them (checked against a real broker: see test/integration/ground.test.ts).
const wrapped = (inner: Error) =>
  new MultipleErrors('Listing topics failed.', [
    new MultipleErrors('Cannot connect to any broker.', [inner]),
  ]);
const protocol = (code: string) => new ResponseError(10, 4, { '/': [codeNumber(code), null] }, {});
function codeNumber(id: string): number {
  return {
    NOT_COORDINATOR: 16,
    COORDINATOR_LOAD_IN_PROGRESS: 14,
    TOPIC_AUTHORIZATION_FAILED: 29,
    LEADER_NOT_AVAILABLE: 5,
  }[id]!;
}

const conn = {
  bootstrap_servers: ['b1:9092'],
  security: { sasl_username: 'svc', sasl_password: 'hunter2', sasl_mechanism: 'SCRAM-SHA-256' as const },
};

describe('Kafka error policy', () => {
  it('sorts what the client throws', () => {
    const sasl = wrapped(
      new NetworkError('Connection to b1:9092 failed.', {
        cause: new AuthenticationError('SASL authentication failed.', {
          cause: new ProtocolError('SASL_AUTHENTICATION_FAILED'),
        }),
      }),
    );
    expect(classifyKafkaError(sasl)).toBe('authentication');
    const refused = wrapped(
      new NetworkError('Connection to b1:9092 failed.', {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      }),
    );
    expect(classifyKafkaError(refused)).toBe('network');
    const tls = wrapped(
      new NetworkError('Connection failed.', { cause: new Error('self-signed certificate') }),
    );
    expect(classifyKafkaError(tls)).toBe('tls');
    expect(classifyKafkaError(protocol('NOT_COORDINATOR'))).toBe('transient');
    expect(classifyKafkaError(protocol('COORDINATOR_LOAD_IN_PROGRESS'))).toBe('transient');
    expect(classifyKafkaError(new UserError('Unknown topic orders.'))).toBe('transient');
    expect(classifyKafkaError(protocol('TOPIC_AUTHORIZATION_FAILED'))).toBe('authorization');
    expect(classifyKafkaError(new TypeError('x is undefined'))).toBe('other');
  });

  it('translates to errors that name the fields, never the password', () => {
    const sasl = new AuthenticationError('SASL authentication failed.', {
      cause: new ProtocolError('SASL_AUTHENTICATION_FAILED'),
    });
    const e = translateKafkaError(sasl, conn, 'source') as KafkaAccessError;
    expect(e).toBeInstanceOf(KafkaAccessError);
    expect(e.message).toBe('authentication failed on b1:9092 for user "svc" with SCRAM-SHA-256');
    expect(e.hint).toMatch(/source\.security\.sasl_username/);
    expect(JSON.stringify({ m: e.message, h: e.hint })).not.toContain('hunter2');
    const t = translateKafkaError(protocol('NOT_COORDINATOR'), conn, 'target', 'commit offsets of group g');
    expect(t).toBeInstanceOf(KafkaTransientError);
    expect((t as Error).message).toMatch(/kept answering NOT_COORDINATOR \(commit offsets of group g\)/);
    const bug = new TypeError('x is undefined');
    expect(translateKafkaError(bug, conn, 'source')).toBe(bug);
  });

  it('retries what time fixes until the deadline, and nothing else', async () => {
    const policy = {
      deadlineMs: 300,
      unreachableMs: 100,
      unknownTopicMs: 100,
      initialDelayMs: 10,
      maxDelayMs: 20,
    };
    let calls = 0;
    const loading = await withRetry(
      async () => {
        if (++calls < 4) throw protocol('COORDINATOR_LOAD_IN_PROGRESS');
        return 'committed';
      },
      { policy },
    );
    expect([loading, calls]).toEqual(['committed', 4]);

    calls = 0;
    const auth = new AuthenticationError('SASL authentication failed.', {
      cause: new ProtocolError('SASL_AUTHENTICATION_FAILED'),
    });
    await expect(
      withRetry(
        async () => {
          calls++;
          throw auth;
        },
        { policy },
      ),
    ).rejects.toBe(auth);
    expect(calls).toBe(1);

    calls = 0;
    const started = Date.now();
    await expect(
      withRetry(
        async () => {
          calls++;
          throw protocol('LEADER_NOT_AVAILABLE');
        },
        { policy },
      ),
    ).rejects.toBeInstanceOf(ResponseError);
    expect(calls).toBeGreaterThan(3);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses a broker too old for Fetch v13, naming what it speaks', () => {
    const apis = [
      { apiKey: 0, minVersion: 0, maxVersion: 9 },
      { apiKey: 1, minVersion: 0, maxVersion: 12 },
      { apiKey: 3, minVersion: 0, maxVersion: 11 },
      { apiKey: 22, minVersion: 0, maxVersion: 4 },
    ];
    expect(() => requireProtocolSupport(apis, 'old:9092')).toThrow(
      'the brokers at old:9092 speak Fetch v0-v12 (older than Kafka 3.1); kafka-backup needs Fetch v13',
    );
    apis[1]!.maxVersion = 17;
    expect(() => requireProtocolSupport(apis, 'new:9092')).not.toThrow();
  });
});
