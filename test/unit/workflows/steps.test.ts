// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these configs hold ${VAR} references, substituted by the engine
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../../lib/cli/main.ts';
import { ConfigError, InvalidEventError } from '../../../lib/errors.ts';
import {
  assertNoLiteralSecrets,
  mergeSecret,
  parseBackupInput,
  parseRestoreInput,
} from '../../../lib/workflow/config.ts';
import { parseEvent } from '../../../lib/workflow/events.ts';
import { deadlineOf, STEP_NAMES, STEPS } from '../../../lib/workflow/index.ts';
import { tempDir } from '../../support/cli.ts';

const REPO = join(import.meta.dirname, '..', '..', '..');

const backupConfig = (security: Record<string, unknown>) => ({
  mode: 'backup',
  backup_id: 'primary-${TIMESTAMP}',
  source: { bootstrap_servers: ['kafka-0:9092'], security, topics: { include: ['orders'] } },
  storage: { backend: 's3', bucket: 'kafka-backups-primary', prefix: 'us-west-2/hourly' },
});

describe('workflow configs and credentials', () => {
  it('merges the Kafka secret into the security section, over ${VAR} references', () => {
    const raw = backupConfig({
      security_protocol: 'SASL_SSL',
      sasl_mechanism: 'SCRAM-SHA-256',
      sasl_password: '${KAFKA_PASSWORD}',
    });
    const config = parseBackupInput(raw, {
      source: 'input',
      env: {},
      now: new Date('2024-12-01T12:00:00Z'),
      secret: { sasl_username: 'backup-service', sasl_password: 's3cr3t' },
    });
    expect(config.backup_id).toBe('primary-20241201-120000');
    expect(config.source.security).toMatchObject({
      security_protocol: 'SASL_SSL',
      sasl_username: 'backup-service',
      sasl_password: 's3cr3t',
    });
  });

  it('without a secret, a ${VAR} reference must be set, and says so', () => {
    const raw = backupConfig({
      security_protocol: 'SASL_SSL',
      sasl_mechanism: 'PLAIN',
      sasl_username: 'u',
      sasl_password: '${KAFKA_PASSWORD}',
    });
    expect(() =>
      parseBackupInput(raw, { source: 'input', env: {}, now: new Date(), secret: undefined }),
    ).toThrow(/\$\{KAFKA_PASSWORD\} is not set/);
  });

  it('writes ssl_ca_pem from the secret to a private file and points ssl_ca_location at it', () => {
    const pem = `-----BEGIN CERTIFICATE-----\n${Math.random()}\n-----END CERTIFICATE-----\n`;
    const merged = mergeSecret(backupConfig({ security_protocol: 'SSL' }), 'source', { ssl_ca_pem: pem });
    const location = ((merged['source'] as Record<string, unknown>)['security'] as Record<string, string>)[
      'ssl_ca_location'
    ]!;
    expect(readFileSync(location, 'utf8')).toBe(pem);
    expect(statSync(location).mode & 0o777).toBe(0o600);
    expect(JSON.stringify(merged)).not.toContain('BEGIN CERTIFICATE');
  });

  it('refuses credentials written into an execution input', () => {
    expect(() =>
      assertNoLiteralSecrets(backupConfig({ sasl_password: 'hunter2' }), 'source', 'input'),
    ).toThrow(ConfigError);
    expect(() =>
      assertNoLiteralSecrets(backupConfig({ sasl_password: '${KAFKA_PASSWORD}' }), 'source', 'input'),
    ).not.toThrow();
    expect(() => assertNoLiteralSecrets(backupConfig({}), 'source', 'input')).not.toThrow();
  });

  it('takes Schema Registry credentials and SCRAM passwords from the secret', () => {
    const raw = {
      mode: 'restore',
      backup_id: 'latest',
      target: { bootstrap_servers: ['kafka:9092'] },
      storage: { path: '/backups' },
      schema_registry: { url: 'https://registry:8081', basic_auth: { username: 'dr' } },
      restore: { metadata: ['users'], scram_users: [{ name: 'orders-app-dr' }] },
    };
    const config = parseRestoreInput(raw, {
      source: 'input',
      env: {},
      now: new Date(),
      secret: {
        schema_registry: { basic_auth: { password: 'registry-secret' } },
        scram_passwords: { 'orders-app-dr': 'app-secret' },
      },
    });
    expect(config.schema_registry?.basic_auth).toEqual({ username: 'dr', password: 'registry-secret' });
    expect(config.restore.scram_users).toEqual([{ name: 'orders-app-dr', password: 'app-secret' }]);
    // Without the secret the password is missing, and the config says which.
    expect(() =>
      parseRestoreInput(raw, { source: 'input', env: {}, now: new Date(), secret: undefined }),
    ).toThrow(/schema_registry\.basic_auth\.password/);
  });

  it('refuses Schema Registry and SCRAM user passwords written into an execution input', () => {
    const withRegistry = (password: string) => ({
      ...backupConfig({}),
      schema_registry: { url: 'https://r', basic_auth: { username: 'u', password } },
    });
    expect(() => assertNoLiteralSecrets(withRegistry('hunter2'), 'source', 'input')).toThrow(
      /schema_registry\.basic_auth\.password/,
    );
    expect(() =>
      assertNoLiteralSecrets(withRegistry('${REGISTRY_PASSWORD}'), 'source', 'input'),
    ).not.toThrow();
    const withUser = { restore: { scram_users: [{ name: 'app', password: 'hunter2' }] } };
    expect(() => assertNoLiteralSecrets(withUser, 'target', 'input')).toThrow(
      /restore\.scram_users\.0\.password/,
    );
  });
});

describe('workflow steps', () => {
  it('has a step function, a Lambda handler and a CLI name for every step', async () => {
    for (const step of STEP_NAMES) {
      expect(typeof STEPS[step]).toBe('function');
      const file = join(REPO, 'functions', `${step}.ts`);
      expect(existsSync(file), file).toBe(true);
      expect(readFileSync(file, 'utf8')).toContain(`lambdaHandler('${step}')`);
    }
    const mod = (await import('../../../functions/backup-failed.ts')) as { handler: unknown };
    expect(typeof mod.handler).toBe('function');
  });

  it('names what is wrong with an event, with a stable error name', () => {
    let error: unknown;
    try {
      parseEvent('backup-partition', { config_ref: { key: 'k' }, lease: { owner: '' } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidEventError);
    expect((error as Error).name).toBe('InvalidEventError');
    expect((error as Error).message).toMatch(/config_ref\.storage/);
  });

  it('takes a backup item of one or more offset ranges, and refuses one without a range', () => {
    const event = {
      config_ref: { storage: { backend: 'filesystem', path: '/b' }, key: 'k', now: '2026-12-02T00:00:00Z' },
      lease: { owner: 'o', ttl_ms: 1_000 },
      item: {
        ranges: [
          { topic: 'orders', partition: 0, from: 0, to: 500 },
          { topic: 'audit', partition: 2, from: 10, to: 20 },
        ],
        offsets: 510,
        bytes: 51_000,
        runner: 'lambda',
      },
    };
    expect(parseEvent('backup-partition', event).item.ranges).toHaveLength(2);
    expect(() => parseEvent('backup-partition', { ...event, item: { ...event.item, ranges: [] } })).toThrow(
      /item\.ranges: /,
    );
  });

  it('stops the margin before the runner would: the deadline of a Lambda step, none for the CLI', () => {
    const rt = { deadlineMarginMs: 30_000 } as Parameters<typeof deadlineOf>[0];
    expect(deadlineOf(rt)).toBeUndefined();
    const before = Date.now();
    const d = deadlineOf({ ...rt, remainingMs: () => 90_000 })!;
    expect(d).toBeGreaterThanOrEqual(before + 60_000);
    expect(d).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(deadlineOf({ ...rt, remainingMs: () => 10_000 })!).toBeLessThanOrEqual(Date.now());
  });

  it('`kafka-backup step` runs a step from an event file, emits its metric as EMF, and is not in the help', async () => {
    const file = join(tempDir(), 'event.json');
    writeFileSync(
      file,
      JSON.stringify({
        state: { config: { backup_id: 'b-1' }, error: { Error: 'KafkaAccessError', Cause: 'x' } },
      }),
    );
    const lines: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const out: string[] = [];
    try {
      expect(await main(['step', 'backup-failed', '--event', file], (s) => out.push(s))).toBe(0);
      expect(await main(['step', 'no-such-step', '--event', file], () => {})).toBe(2);
      expect(await main(['step', 'backup-plan', '--event', file], () => {})).toBe(2);
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(JSON.parse(out.join('\n'))).toEqual({ backup_id: 'b-1', recorded: true, lease_released: false });
    const emf = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((d) => '_aws' in d);
    expect(emf).toEqual([
      expect.objectContaining({
        kafka_backup_backups_total: 1,
        Outcome: 'failure',
        BackupId: 'b-1',
        SourceClusterId: 'unknown',
      }),
    ]);
    const help: string[] = [];
    await main(['--help'], (s) => help.push(s));
    expect(help.join('\n')).not.toMatch(/^\s+step\s/m);
  });
});
