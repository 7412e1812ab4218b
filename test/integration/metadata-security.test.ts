// ACLs, client quotas and SCRAM users back up with a backup and restore onto the DR cluster, on the ground's
// clusters with Kafka's StandardAuthorizer enforcing them. Set up and checked through the client library and
// Kafka's own ConfigCommand, not lib/kafka.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type Acl,
  AclOperations,
  AclPermissionTypes,
  Admin,
  type BaseOptions,
  ClientQuotaMatchTypes,
  ConfigResourceTypes,
  ConfigSources,
  ResourcePatternTypes,
  ResourceTypes,
} from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aclSnapshot } from '../support/acl-snapshot.ts';
import { runCli, tempDir, writeConfig } from '../support/cli.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import { kafkaLibDir } from '../support/java-fixtures.ts';

const run = promisify(execFile);

/** Kafka's own tool creates a SCRAM user, as an operator would (kafka-configs --alter --add-config SCRAM-...). */
async function addScramUser(bootstrap: string, name: string, password: string): Promise<void> {
  await run(
    'java',
    [
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-cp',
      `${kafkaLibDir()}/*`,
      'kafka.admin.ConfigCommand',
      '--bootstrap-server',
      bootstrap,
      '--alter',
      '--add-config',
      `SCRAM-SHA-256=[iterations=8192,password=${password}]`,
      '--entity-type',
      'users',
      '--entity-name',
      name,
    ],
    { timeout: 60_000 },
  );
}

/** Kafka error codes anywhere in what the client threw (it wraps each failed attempt). */
function errorCodes(e: unknown, out: string[] = []): string[] {
  if (!(e instanceof Error)) return out;
  const apiId = (e as { apiId?: string }).apiId;
  if (apiId) out.push(apiId);
  for (const inner of (e as { errors?: unknown[] }).errors ?? []) errorCodes(inner, out);
  errorCodes(e.cause, out);
  return out;
}

/** The configs set on a topic itself, as the broker reports them. */
async function topicConfigs(a: Admin, topic: string): Promise<Record<string, string>> {
  const [res] = await a.describeConfigs({
    resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic }],
  });
  return Object.fromEntries(
    (res?.configs ?? [])
      .filter((c) => c.configSource === ConfigSources.DYNAMIC_TOPIC_CONFIG)
      .map((c) => [c.name, String(c.value)]),
  );
}

function admin(bootstrap: string, extra: Partial<BaseOptions> = {}): Admin {
  return new Admin({ clientId: 'metadata-test', bootstrapBrokers: [bootstrap], retries: 3, ...extra });
}

function saslAdmin(bootstrap: string, username: string, password: string): Admin {
  return admin(bootstrap, {
    tls: { ca: [ground().caPem()] },
    sasl: { mechanism: 'SCRAM-SHA-256', username, password },
    retries: 0,
  });
}

const topicAcl = (topic: string, principal: string, operation: Acl['operation']): Acl => ({
  resourceType: ResourceTypes.TOPIC,
  resourceName: topic,
  resourcePatternType: ResourcePatternTypes.LITERAL,
  principal,
  host: '*',
  operation,
  permissionType: AclPermissionTypes.ALLOW,
});

async function aclsFor(a: Admin, principal: string) {
  const resources = await a.describeAcls({
    filter: {
      resourceType: ResourceTypes.ANY,
      resourceName: null,
      resourcePatternType: ResourcePatternTypes.ANY,
      principal,
      host: null,
      operation: AclOperations.ANY,
      permissionType: AclPermissionTypes.ANY,
    },
  });
  return resources
    .flatMap((r) =>
      r.acls.map((x) => `${r.resourceType}:${r.resourceName}:${x.operation}:${x.permissionType}`),
    )
    .sort();
}

async function quotaOf(a: Admin, user: string) {
  const entries = await a.describeClientQuotas({
    components: [{ entityType: 'user', matchType: ClientQuotaMatchTypes.EXACT, match: user }],
  });
  return Object.fromEntries((entries[0]?.values ?? []).map((v) => [v.key, v.value]));
}

describe('ACLs, quotas and SCRAM users', () => {
  const g = ground();
  const dir = tempDir();
  const suffix = uniqueName('m');
  const topic = uniqueName('secured');
  const drTopic = `${topic}-dr`;
  const app = `app-${suffix}`;
  const drApp = `app-dr-${suffix}`;
  const primary = admin(g.primary);
  const dr = admin(g.dr);
  const backupId = uniqueName('meta-backup');
  let restoreDrAcls: () => Promise<void> = async () => undefined;

  beforeAll(async () => {
    restoreDrAcls = await aclSnapshot(dr);
    await primary.createTopics({
      topics: [topic],
      partitions: 1,
      replicas: 1,
      configs: [
        { name: 'retention.ms', value: '3600000' },
        { name: 'max.message.bytes', value: '2000000' },
      ],
    });
    // DR's copy has drifted: another retention, no max.message.bytes of its own, a setting the primary lacks.
    await dr.createTopics({
      topics: [drTopic],
      partitions: 1,
      replicas: 1,
      configs: [
        { name: 'retention.ms', value: '7200000' },
        { name: 'segment.ms', value: '600000' },
      ],
    });
    await primary.createAcls({
      creations: [
        topicAcl(topic, `User:${app}`, AclOperations.READ),
        topicAcl(topic, `User:${app}`, AclOperations.DESCRIBE),
        {
          ...topicAcl(`${topic}-`, `User:${app}`, AclOperations.WRITE),
          resourcePatternType: ResourcePatternTypes.PREFIXED,
        },
      ],
    });
    await primary.alterClientQuotas({
      entries: [
        {
          entities: [{ entityType: 'user', entityName: app }],
          ops: [{ key: 'producer_byte_rate', value: 1048576, remove: false }],
        },
      ],
    });
    await addScramUser(g.primary, app, 'primary-only-password');
  });

  afterAll(async () => {
    // The restore copied every ACL of the primary to DR: remove all it added there.
    await restoreDrAcls().catch(() => undefined);
    for (const [a, principal] of [[primary, `User:${app}`]] as const) {
      await a
        .deleteAcls({
          filters: [
            {
              resourceType: ResourceTypes.ANY,
              resourceName: null,
              resourcePatternType: ResourcePatternTypes.ANY,
              principal,
              host: null,
              operation: AclOperations.ANY,
              permissionType: AclPermissionTypes.ANY,
            },
          ],
        })
        .catch(() => undefined);
    }
    await primary.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await dr.deleteTopics({ topics: [drTopic] }).catch(() => undefined);
    await primary.close();
    await dr.close();
  });

  it('are captured with the backup: ACLs, quotas, user names and mechanisms, never a secret', async () => {
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
backup:
  metadata: [acls, quotas, users]
`,
    );
    const r = await runCli(['backup', '--config', config]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const raw = readFileSync(join(dir, 'store', 'backups', backupId, 'metadata.json'), 'utf8');
    const metadata = JSON.parse(raw);
    expect(metadata.parts).toEqual(['acls', 'quotas', 'users']);
    expect(metadata.acls.filter((a: { principal: string }) => a.principal === `User:${app}`)).toEqual([
      {
        resource_type: 'TOPIC',
        resource_name: topic,
        pattern_type: 'LITERAL',
        principal: `User:${app}`,
        host: '*',
        operation: 'DESCRIBE',
        permission: 'ALLOW',
      },
      {
        resource_type: 'TOPIC',
        resource_name: topic,
        pattern_type: 'LITERAL',
        principal: `User:${app}`,
        host: '*',
        operation: 'READ',
        permission: 'ALLOW',
      },
      {
        resource_type: 'TOPIC',
        resource_name: `${topic}-`,
        pattern_type: 'PREFIXED',
        principal: `User:${app}`,
        host: '*',
        operation: 'WRITE',
        permission: 'ALLOW',
      },
    ]);
    expect(metadata.quotas).toContainEqual({
      entity: [{ type: 'user', name: app }],
      values: { producer_byte_rate: 1048576 },
    });
    expect(metadata.users).toContainEqual({
      name: app,
      mechanisms: [{ mechanism: 'SCRAM-SHA-256', iterations: 8192 }],
    });
    expect(raw).not.toMatch(/primary-only-password|salt/i);
    const manifest = JSON.parse(
      readFileSync(join(dir, 'store', 'backups', backupId, 'manifest.json'), 'utf8'),
    );
    expect(manifest.metadata).toMatchObject({
      key: `backups/${backupId}/metadata.json`,
      parts: ['acls', 'quotas', 'users'],
    });

    const described = await runCli(['describe', '--path', `${dir}/store`, '--backup-id', backupId]);
    expect(described.stdout).toContain(
      `metadata         acls, quotas, users (backups/${backupId}/metadata.json;`,
    );

    // validate checks the object: present, and (deep) its SHA-256 as the manifest recorded it.
    const args = ['validate', '--path', `${dir}/store`, '--backup-id', backupId, '--deep'];
    expect((await runCli(args)).code).toBe(0);
    const path = join(dir, 'store', 'backups', backupId, 'metadata.json');
    writeFileSync(path, `${raw} `);
    const changed = await runCli(args);
    expect(changed.code).toBe(5);
    expect(changed.stdout).toContain(`backups/${backupId}/metadata.json: SHA-256 differs from the manifest`);
    writeFileSync(path, raw);
  });

  const restoreYaml = () =>
    writeConfig(
      dir,
      'restore.yaml',
      `mode: restore
backup_id: ${backupId}
target:
  bootstrap_servers: ["${g.dr}"]
storage:
  path: ${dir}/store
restore:
  metadata: [acls, quotas, users]
  topic_mapping:
    ${topic}: ${drTopic}
  principal_mapping:
    "User:${app}": "User:${drApp}"
  scram_users:
    - name: ${drApp}
      password: \${DR_APP_PASSWORD}
`,
    );

  it('prints the plan and applies nothing without --apply', async () => {
    process.env['DR_APP_PASSWORD'] = 'dr-app-secret';
    const r = await runCli(['restore-metadata', '--config', restoreYaml()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`+ ALLOW User:${drApp} READ on TOPIC:${drTopic} from *`);
    expect(r.stdout).toContain(`+ ALLOW User:${drApp} WRITE on TOPIC:${topic}-* from *`);
    expect(r.stdout).toContain(`~ user=${drApp}: producer_byte_rate=1048576 (was unset)`);
    expect(r.stdout).toContain(`+ ${drApp} SCRAM-SHA-256 (8192 iterations)`);
    expect(r.stdout).toMatch(/nothing applied \(dry run\): run again with --apply/);
    expect(r.stdout).not.toContain('dr-app-secret');
    expect(await aclsFor(dr, `User:${drApp}`)).toEqual([]);
    expect(await quotaOf(dr, drApp)).toEqual({});
    const login = saslAdmin(g.drSaslSsl, drApp, 'dr-app-secret');
    await expect(login.listTopics()).rejects.toThrow();
    await login.close();
  });

  it('with --apply creates the ACLs, quotas and user on DR, renamed, and the authorizer enforces them', async () => {
    const r = await runCli(['restore-metadata', '--config', restoreYaml(), '--apply']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('applied.');
    expect(await aclsFor(dr, `User:${drApp}`)).toEqual(
      [
        `${ResourceTypes.TOPIC}:${drTopic}:${AclOperations.DESCRIBE}:${AclPermissionTypes.ALLOW}`,
        `${ResourceTypes.TOPIC}:${drTopic}:${AclOperations.READ}:${AclPermissionTypes.ALLOW}`,
        `${ResourceTypes.TOPIC}:${topic}-:${AclOperations.WRITE}:${AclPermissionTypes.ALLOW}`,
      ].sort(),
    );
    expect(await quotaOf(dr, drApp)).toEqual({ producer_byte_rate: 1048576 });

    // The restored user logs in with the password from the environment, and sees the topic its ACLs name.
    const asApp = saslAdmin(g.drSaslSsl, drApp, 'dr-app-secret');
    try {
      const md = await asApp.metadata({ topics: [drTopic] });
      expect(md.topics.has(drTopic)).toBe(true);
    } finally {
      await asApp.close();
    }
    // Another principal is refused: the topic is now named by ACLs, and none is theirs.
    const other = saslAdmin(g.drSaslSsl, 'restore-service', 'restore-secret');
    try {
      const refused = await other.metadata({ topics: [drTopic] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(errorCodes(refused)).toContain('TOPIC_AUTHORIZATION_FAILED');
    } finally {
      await other.close();
    }

    // Applying again finds everything present.
    const again = await runCli(['restore-metadata', '--config', restoreYaml()]);
    // (The ground's clusters are shared by the test files: other principals' ACLs, quotas and users are there too.)
    expect(again.stdout).toMatch(/ACLs: 0 to create, \d+ present/);
    expect(again.stdout).toMatch(/client quotas: 0 to set, \d+ present/);
    expect(again.stdout).toMatch(/SCRAM users: 0 to create, \d+ present/);
    expect(again.stdout).not.toContain(`+ ${drApp}`);
  });

  it("diff-configs reports topic config drift against the backup, and --apply sets the backup's values", async () => {
    const config = restoreYaml();
    const r = await runCli(['diff-configs', '--config', config]);
    expect(r.code).toBe(5);
    expect(r.stdout).toContain(`${topic} -> ${drTopic}: 2 differ`);
    // The ground's brokers set message.max.bytes=10485760, the default of a topic's max.message.bytes.
    expect(r.stdout).toContain('max.message.bytes: backup 2000000, cluster 10485760');
    expect(r.stdout).toContain('retention.ms: backup 3600000, cluster 7200000');
    expect(r.stdout).toContain('segment.ms=600000 only on the cluster (left as is)');
    expect(r.stdout).toMatch(/nothing changed: run again with --apply/);
    const before = await topicConfigs(dr, drTopic);
    expect(before['retention.ms']).toBe('7200000');

    const applied = await runCli(['diff-configs', '--config', config, '--apply']);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain("set 2 config(s) to the backup's values");
    expect(await topicConfigs(dr, drTopic)).toMatchObject({
      'retention.ms': '3600000',
      'max.message.bytes': '2000000',
      'segment.ms': '600000',
    });
    const again = await runCli(['diff-configs', '--config', config, '--format', 'json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      drifted: 0,
      topics: [{ target_topic: drTopic, status: 'same' }],
    });
  });

  it('tells a principal without DESCRIBE on the cluster what it lacks', async () => {
    const user = `nodescribe-${suffix}`;
    await addScramUser(g.primary, user, 'nodescribe-secret');
    const deny: Acl = {
      resourceType: ResourceTypes.CLUSTER,
      resourceName: 'kafka-cluster',
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: `User:${user}`,
      host: '*',
      operation: AclOperations.DESCRIBE,
      permissionType: AclPermissionTypes.DENY,
    };
    await primary.createAcls({ creations: [deny] });
    // A topic no ACL names, so the user may read it (allow.everyone.if.no.acl.found): only the cluster is denied.
    const open = uniqueName('open');
    await primary.createTopics({ topics: [open], partitions: 1, replicas: 1 });
    try {
      const config = writeConfig(
        dir,
        'nodescribe.yaml',
        `mode: backup
backup_id: ${uniqueName('nodescribe')}
source:
  bootstrap_servers: ["${g.primarySaslSsl}"]
  security:
    security_protocol: SASL_SSL
    sasl_mechanism: SCRAM-SHA-256
    sasl_username: ${user}
    sasl_password: nodescribe-secret
    ssl_ca_location: ${g.caPemPath}
  topics:
    include: ["${open}"]
storage:
  path: ${dir}/store
backup:
  metadata: [acls]
`,
      );
      const r = await runCli(['backup', '--config', config]);
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/backup\.metadata: could not read acls/);
      expect(r.stderr).toMatch(new RegExp(`User:${user} needs DESCRIBE on the cluster \\(DescribeAcls\\)`));
      expect(r.stderr).not.toMatch(/nodescribe-secret/);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      await primary.deleteAcls({ filters: [deny] });
      await primary.deleteTopics({ topics: [open] });
    }
  });
});
