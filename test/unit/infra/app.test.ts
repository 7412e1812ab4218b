// biome-ignore-all lint/suspicious/noTemplateCurlyInString: engine configs hold ${TIMESTAMP}, substituted at run time
import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { BackupConfig, RestoreConfig } from '../../../lib/config/schema.ts';
import { buildKafkaBackupApp, type KafkaBackupStacks } from '../../../lib/infra/app.ts';
import { KafkaBackup } from '../../../lib/infra/constructs/kafka-backup.ts';
import { type DeploymentConfig, parseDeploymentConfig } from '../../../lib/infra/deployment-config.ts';
import { EMF_NAMESPACE } from '../../../lib/metrics/emf.ts';
import { METRICS } from '../../../lib/metrics/names.ts';

/** Synthesized CloudFormation and engine configs: JSON of no fixed shape, walked freely in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: see above
type Json = any;

const EXAMPLE = JSON.parse(readFileSync('deploy/deployment.example.json', 'utf8'));
/** Synthesizing four stacks with cdk-nag takes seconds, more on a loaded machine. */
const SYNTH_TIMEOUT = 120_000;
/** cdk.json's context (feature flags), as `cdk synth` passes it, and no asset bundling. */
const CONTEXT = { ...JSON.parse(readFileSync('cdk.json', 'utf8')).context, 'aws:cdk:bundling-stacks': [] };

/** The example app, as `cdk synth` builds it, without asset bundling. */
function build(data: unknown = EXAMPLE): {
  app: App;
  stacks: KafkaBackupStacks;
  deployment: DeploymentConfig;
} {
  const app = new App({ context: CONTEXT });
  const deployment = parseDeploymentConfig(data);
  return { app, stacks: buildKafkaBackupApp(app, deployment), deployment };
}

type Resources = Record<string, { Type: string; Properties: Record<string, Json>; DependsOn?: unknown }>;

function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

function only<T>(values: T[]): T {
  expect(values).toHaveLength(1);
  return values[0]!;
}

/** `{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::b"]]}` -> `arn:aws:s3:::b`. */
function flatten(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(flatten);
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (v['Ref'] === 'AWS::Partition') return 'aws';
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts
        .map((p) => (typeof p === 'string' ? p : typeof flatten(p) === 'string' ? flatten(p) : '<token>'))
        .join(sep);
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, flatten(x)]));
  }
  return value;
}

describe('the example app', { timeout: SYNTH_TIMEOUT }, () => {
  let built: ReturnType<typeof build>;
  let primary: Template;
  let dr: Template;
  let analytics: Template;
  let apac: Template;

  beforeAll(() => {
    built = build();
    primary = Template.fromStack(built.stacks.primary);
    dr = Template.fromStack(built.stacks.dr[0]!);
    analytics = Template.fromStack(built.stacks.restoreTargets[0]!);
    apac = Template.fromStack(built.stacks.restoreTargets[1]!);
  }, SYNTH_TIMEOUT);

  it('has one stack per region with explicit env', () => {
    const stacks = built.stacks.all.map((s) => ({
      name: s.stackName,
      region: s.region,
      account: s.account,
      role: s.role,
    }));
    expect(stacks).toEqual([
      { name: 'kafka-backup-us-west-2', region: 'us-west-2', account: '111111111111', role: 'primary' },
      { name: 'kafka-backup-us-east-1', region: 'us-east-1', account: '111111111111', role: 'dr' },
      {
        name: 'kafka-backup-eu-west-1',
        region: 'eu-west-1',
        account: '111111111111',
        role: 'restore-target',
      },
      {
        name: 'kafka-backup-ap-southeast-1',
        region: 'ap-southeast-1',
        account: '111111111111',
        role: 'restore-target',
      },
    ]);
    // The primary is deployed after the DR bucket it replicates into exists.
    expect(built.stacks.primary.dependencies).toContain(built.stacks.dr[0]);
    const assembly = built.app.synth();
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual([
      'kafka-backup-ap-southeast-1',
      'kafka-backup-eu-west-1',
      'kafka-backup-us-east-1',
      'kafka-backup-us-west-2',
    ]);
  });

  it('replicates the primary bucket to the DR bucket as replication-config.json says', () => {
    const bucket = only(
      Object.values(resourcesOf(primary, 'AWS::S3::Bucket')).filter(
        (b) => b.Properties['ReplicationConfiguration'],
      ),
    );
    expect(bucket.Properties['BucketName']).toBe('kafka-backups-primary');
    const replication = flatten(bucket.Properties['ReplicationConfiguration']) as Record<string, Json>;
    expect(replication['Rules']).toEqual([
      {
        Id: 'KafkaBackupReplication',
        Status: 'Enabled',
        Priority: 1,
        Filter: { Prefix: 'us-west-2/' },
        Destination: {
          Bucket: 'arn:aws:s3:::kafka-backups-dr',
          ReplicationTime: { Status: 'Enabled', Time: { Minutes: 15 } },
          Metrics: { Status: 'Enabled', EventThreshold: { Minutes: 15 } },
        },
        DeleteMarkerReplication: { Status: 'Disabled' },
      },
    ]);
    expect(replication['Role']).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ReplicationRole/), 'Arn'] });
  });

  it('gives the replication role only what replication of the prefix needs', () => {
    const [roleId, role] = only(
      Object.entries(resourcesOf(primary, 'AWS::IAM::Role')).filter(([id]) =>
        id.startsWith('ReplicationRole'),
      ),
    );
    expect(flatten(role.Properties['AssumeRolePolicyDocument'])).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: 's3.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': '111111111111' },
            ArnLike: { 'aws:SourceArn': 'arn:aws:s3:::kafka-backups-primary' },
          },
        },
      ],
    });
    expect(role.Properties['ManagedPolicyArns']).toBeUndefined();
    const policies = Object.values(resourcesOf(primary, 'AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties['Roles']).includes(roleId),
    );
    const statements = only(policies).Properties['PolicyDocument'].Statement.map(flatten);
    expect(statements).toEqual([
      {
        Sid: 'ReadSourceReplicationConfiguration',
        Effect: 'Allow',
        Action: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
        Resource: 'arn:aws:s3:::kafka-backups-primary',
      },
      {
        Sid: 'ReadSourceObjectVersionsUnderPrefix',
        Effect: 'Allow',
        Action: [
          's3:GetObjectLegalHold',
          's3:GetObjectRetention',
          's3:GetObjectVersionAcl',
          's3:GetObjectVersionForReplication',
          's3:GetObjectVersionTagging',
        ],
        Resource: 'arn:aws:s3:::kafka-backups-primary/us-west-2/*',
      },
      {
        // No s3:ReplicateDelete: delete markers are not replicated.
        Sid: 'WriteReplicasUnderPrefix',
        Effect: 'Allow',
        Action: ['s3:ReplicateObject', 's3:ReplicateTags'],
        Resource: 'arn:aws:s3:::kafka-backups-dr/us-west-2/*',
      },
    ]);
  });

  it('makes every bucket versioned, encrypted, private, TLS-only, logged and lifecycled', () => {
    for (const [template, name] of [
      [primary, 'kafka-backups-primary'],
      [dr, 'kafka-backups-dr'],
    ] as const) {
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketName: name,
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: `${name}/` },
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'ExpireNoncurrentVersions',
              Status: 'Enabled',
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
              ExpiredObjectDeleteMarker: true,
            },
            {
              Id: 'AbortIncompleteMultipartUploads',
              Status: 'Enabled',
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            },
          ],
        },
      });
      // Both buckets (backups and access logs) refuse plain HTTP and TLS below 1.2.
      const policies = Object.values(resourcesOf(template, 'AWS::S3::BucketPolicy'));
      expect(policies).toHaveLength(2);
      for (const policy of policies) {
        expect(policy.Properties['PolicyDocument'].Statement).toContainEqual(
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        );
      }
      template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', Properties: { BucketName: name } });
    }
    // Restore targets read another region's bucket: they have none.
    analytics.resourceCountIs('AWS::S3::Bucket', 0);
    apac.resourceCountIs('AWS::S3::Bucket', 0);
  });

  it('schedules the guide backups with the engine config as input', () => {
    const schedules = Object.values(resourcesOf(primary, 'AWS::Scheduler::Schedule'));
    expect(
      schedules.map((s) => [
        s.Properties['Name'],
        s.Properties['ScheduleExpression'],
        s.Properties['ScheduleExpressionTimezone'],
      ]),
    ).toEqual([
      ['primary-hourly-backup', 'cron(0 * * * ? *)', 'UTC'],
      ['primary-daily-backup', 'cron(0 2 * * ? *)', 'UTC'],
    ]);
    const [machineId] = Object.keys(resourcesOf(primary, 'AWS::StepFunctions::StateMachine'));
    const inputs = schedules.map((s) => {
      expect(s.Properties['Target'].Arn).toEqual({ Ref: machineId });
      expect(s.Properties['State']).toBe('ENABLED');
      return JSON.parse(s.Properties['Target'].Input);
    });
    expect(inputs[0]).toEqual({
      schedule: 'primary-hourly-backup',
      config: {
        mode: 'backup',
        backup_id: 'primary-hourly-backup-${TIMESTAMP}',
        source: {
          bootstrap_servers: ['kafka-0.us-west-2.example.com:9092'],
          security: { security_protocol: 'SASL_SSL', sasl_mechanism: 'SCRAM-SHA-256' },
          topics: { include: ['orders', 'payments', 'inventory', 'customers', 'events-*'], exclude: [] },
        },
        storage: {
          backend: 's3',
          bucket: 'kafka-backups-primary',
          region: 'us-west-2',
          prefix: 'us-west-2/hourly',
        },
        backup: {
          compression: 'zstd',
          compression_level: 3,
          include_offset_headers: true,
          source_cluster_id: 'prod-us-west-2',
        },
        retention: { backups: 168 },
      },
    });
    expect(inputs[1].config).toMatchObject({
      backup_id: 'primary-daily-backup-${TIMESTAMP}',
      source: { topics: { include: ['*'], exclude: ['__*', '_*'] } },
      storage: { prefix: 'us-west-2/daily' },
      backup: { compression: 'zstd', compression_level: 6 },
      retention: { backups: 90 },
    });
    // What the workflow will run: the engine accepts both once the secret is merged and the timestamp substituted.
    for (const { config } of inputs) {
      config.backup_id = config.backup_id.replace('${TIMESTAMP}', '20241201-120000');
      Object.assign(config.source.security, { sasl_username: 'backup-service', sasl_password: 'x' });
      expect(BackupConfig.safeParse(config).error).toBeUndefined();
    }
    // The scheduler's role may start this state machine and nothing else.
    const roleArn = only([...new Set(schedules.map((s) => s.Properties['Target'].RoleArn['Fn::GetAtt'][0]))]);
    const schedulerPolicy = only(
      Object.values(resourcesOf(primary, 'AWS::IAM::Policy')).filter(
        (p) => JSON.stringify(p.Properties['Roles']) === JSON.stringify([{ Ref: roleArn }]),
      ),
    );
    expect(schedulerPolicy.Properties['PolicyDocument'].Statement).toEqual([
      { Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: machineId } },
    ]);
  });

  it('keeps the KafkaRestore inputs ready to run, and schedules the analytics refresh', () => {
    const parameter = only(Object.values(resourcesOf(dr, 'AWS::SSM::Parameter')));
    expect(parameter.Properties['Name']).toBe('/kafka-backup/restores/dr-restore');
    const input = JSON.parse(parameter.Properties['Value']);
    expect(input).toEqual({
      restore: 'dr-restore',
      config: {
        mode: 'restore',
        backup_id: 'latest',
        target: {
          bootstrap_servers: ['kafka-0.us-east-1.example.com:9092'],
          security: { security_protocol: 'SASL_SSL', sasl_mechanism: 'SCRAM-SHA-256' },
        },
        storage: {
          backend: 's3',
          bucket: 'kafka-backups-dr',
          region: 'us-east-1',
          prefix: 'us-west-2/hourly',
        },
        restore: {
          include_original_offset_header: true,
          consumer_group_strategy: 'header-based',
          reset_consumer_offsets: true,
          consumer_groups: ['order-service', 'payment-processor', 'inventory-manager'],
        },
      },
    });
    Object.assign(input.config.target.security, { sasl_username: 'restore-service', sasl_password: 'x' });
    expect(RestoreConfig.safeParse(input.config).error).toBeUndefined();
    // DR's schedules are the readiness check and the drill; restores there run on demand (failover).
    const drSchedules = Object.values(resourcesOf(dr, 'AWS::Scheduler::Schedule'));
    expect(drSchedules.map((x) => [x.Properties['Name'], x.Properties['ScheduleExpression']])).toEqual([
      ['drill', 'cron(0 4 ? * 2#1 *)'],
      ['dr-readiness', 'rate(5 minutes)'],
    ]);

    const refresh = only(Object.values(resourcesOf(analytics, 'AWS::Scheduler::Schedule')));
    expect(refresh.Properties['ScheduleExpression']).toBe('cron(0 4 * * ? *)');
    expect(JSON.parse(refresh.Properties['Target'].Input).config.storage).toEqual({
      backend: 's3',
      bucket: 'kafka-backups-primary',
      region: 'us-west-2',
      prefix: 'us-west-2/daily',
    });
    apac.resourceCountIs('AWS::Scheduler::Schedule', 0);
    apac.resourceCountIs('AWS::SSM::Parameter', 1);
  });

  it('has the workflows: backup in the primary, failover and failback in DR, a restore in each target', () => {
    primary.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    dr.resourceCountIs('AWS::StepFunctions::StateMachine', 3);
    analytics.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    apac.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    expect(built.stacks.primary.backupWorkflow.stateMachine).toBeInstanceOf(sfn.StateMachine);
    expect(built.stacks.dr[0]!.failoverWorkflow.stateMachine).toBeInstanceOf(sfn.StateMachine);
    expect(built.stacks.dr[0]!.failbackWorkflow.stateMachine).toBeInstanceOf(sfn.StateMachine);
    expect(built.stacks.dr[0]!.drill?.stateMachine).toBeInstanceOf(sfn.StateMachine);
  });

  it('runs every function in the Kafka VPC subnets with the workflow security group, and creates no secret', () => {
    const subnets = EXAMPLE.primary.network.subnetIds;
    const functions = Object.values(resourcesOf(primary, 'AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThan(0);
    const [sgId] = Object.keys(resourcesOf(primary, 'AWS::EC2::SecurityGroup'));
    for (const fn of functions) {
      expect(fn.Properties['VpcConfig']).toEqual({
        SubnetIds: subnets,
        SecurityGroupIds: [{ 'Fn::GetAtt': [sgId, 'GroupId'] }],
      });
    }
    primary.hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: EXAMPLE.primary.network.vpcId,
      SecurityGroupEgress: [
        {
          CidrIp: '0.0.0.0/0',
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          Description: 'AWS APIs over HTTPS',
        },
        {
          CidrIp: '10.10.0.0/16',
          IpProtocol: 'tcp',
          FromPort: 9092,
          ToPort: 9092,
          Description: 'Kafka brokers (9092)',
        },
      ],
    });
    primary.resourceCountIs('AWS::ECS::Cluster', 1);
    primary.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
    for (const template of [primary, dr, analytics, apac]) {
      template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    }
    // The secret is referenced by name: read access to kafka-credentials-?????? only.
    expect(JSON.stringify(primary.toJSON())).toContain(':secret:kafka-credentials-??????');
  });

  it('raises the guide alerts as alarms to the SNS topic', () => {
    const alarms = (template: Template): Record<string, Record<string, Json>> =>
      Object.fromEntries(
        Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((a) => [
          a.Properties['AlarmName'],
          a.Properties,
        ]),
      );
    const p = alarms(primary);
    const topic = only(Object.keys(resourcesOf(primary, 'AWS::SNS::Topic')));
    expect(Object.keys(p).sort()).toEqual([
      'KafkaBackupFailed-prod-us-west-2',
      'KafkaBackupLag-prod-us-west-2',
      'KafkaBackupWorkflowFailed-us-west-2',
      'S3ReplicationLag-kafka-backups-primary-kafka-backups-dr',
    ]);
    for (const alarm of Object.values(p)) expect(alarm['AlarmActions']).toEqual([{ Ref: topic }]);

    // KafkaBackupFailed: kafka_backup_backups_total{outcome="failure"} > 0, for the cluster or "unknown".
    const failed = p['KafkaBackupFailed-prod-us-west-2']!;
    expect(failed).toMatchObject({
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(failed['Metrics'].filter((m: Json) => m.MetricStat).map((m: Json) => m.MetricStat)).toEqual([
      {
        Metric: {
          Namespace: 'KafkaBackup',
          MetricName: 'kafka_backup_backups_total',
          Dimensions: [
            { Name: 'Outcome', Value: 'failure' },
            { Name: 'SourceClusterId', Value: 'prod-us-west-2' },
          ],
        },
        Period: 300,
        Stat: 'Sum',
      },
      {
        Metric: {
          Namespace: 'KafkaBackup',
          MetricName: 'kafka_backup_backups_total',
          Dimensions: [
            { Name: 'Outcome', Value: 'failure' },
            { Name: 'SourceClusterId', Value: 'unknown' },
          ],
        },
        Period: 300,
        Stat: 'Sum',
      },
    ]);

    // KafkaBackupLag: no successful backup in 2 h, for 5 min: 25 five-minute periods without one.
    const lag = p['KafkaBackupLag-prod-us-west-2']!;
    expect(lag).toMatchObject({
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: 25,
      DatapointsToAlarm: 25,
      TreatMissingData: 'breaching',
    });
    expect(lag['Metrics'][0].MetricStat).toEqual({
      Metric: {
        Namespace: 'KafkaBackup',
        MetricName: 'kafka_backup_backups_total',
        Dimensions: [
          { Name: 'Outcome', Value: 'success' },
          { Name: 'SourceClusterId', Value: 'prod-us-west-2' },
        ],
      },
      Period: 300,
      Stat: 'Sum',
    });

    // S3ReplicationLag: AWS/S3 ReplicationLatency > 1800 s for 5 minutes.
    const replication = p['S3ReplicationLag-kafka-backups-primary-kafka-backups-dr']!;
    expect(replication).toMatchObject({
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 1800,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
    });
    expect(replication['Metrics'][0].MetricStat).toEqual({
      Metric: {
        Namespace: 'AWS/S3',
        MetricName: 'ReplicationLatency',
        Dimensions: [
          { Name: 'DestinationBucket', Value: 'kafka-backups-dr' },
          { Name: 'RuleId', Value: 'KafkaBackupReplication' },
          { Name: 'SourceBucket', Value: 'kafka-backups-primary' },
        ],
      },
      Period: 60,
      Stat: 'Maximum',
    });

    // DRNotReady: kafka_backup_dr_ready == 0 for 15 minutes, in the DR region.
    const d = alarms(dr);
    expect(Object.keys(d).sort()).toEqual([
      'DRNotReady-prod-us-west-2-us-east-1',
      'KafkaDrillWorkflowFailed-us-east-1',
      'KafkaFailbackWorkflowFailed-us-east-1',
      'KafkaFailoverWorkflowFailed-us-east-1',
      'NoDrillPassed-prod-us-west-2-us-east-1',
    ]);
    expect(d['DRNotReady-prod-us-west-2-us-east-1']!['Metrics'][0].MetricStat).toEqual({
      Metric: {
        Namespace: 'KafkaBackup',
        MetricName: 'kafka_backup_dr_ready',
        Dimensions: [{ Name: 'SourceClusterId', Value: 'prod-us-west-2' }],
      },
      Period: 300,
      Stat: 'Maximum',
    });
    expect(d['DRNotReady-prod-us-west-2-us-east-1']).toMatchObject({
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
    });
    expect(Object.keys(alarms(analytics))).toEqual(['KafkaRestoreWorkflowFailed-eu-west-1']);

    // Every EMF metric an alarm reads is in the catalogue, in the namespace the Lambdas write.
    const names = new Set(Object.values(METRICS).map((m) => m.name));
    for (const alarm of [...Object.values(p), ...Object.values(d)]) {
      const metrics = alarm['Metrics']
        ? alarm['Metrics'].flatMap((m: Json) => (m.MetricStat ? [m.MetricStat.Metric] : []))
        : [alarm];
      for (const m of metrics) {
        if (m.Namespace === EMF_NAMESPACE) expect(names).toContain(m.MetricName);
      }
    }
  });

  it('has the guide dashboard panels on the EMF metrics', () => {
    const dashboard = only(Object.values(resourcesOf(primary, 'AWS::CloudWatch::Dashboard')));
    expect(dashboard.Properties['DashboardName']).toBe('kafka-backup-dr-status');
    const body = JSON.parse(flatten(dashboard.Properties['DashboardBody']) as string);
    const widgets = body.widgets.map((w: Json) => w.properties);
    expect(widgets.map((w: Json) => [w.title, w.view ?? w.type])).toEqual([
      ['Backup Status', 'singleValue'],
      ['Replication Lag', 'gauge'],
      ['Backup Size Trend', 'timeSeries'],
      ['Records Backed Up', 'timeSeries'],
      ['S3 Replication Latency', 'timeSeries'],
      ['DR Ready', 'timeSeries'],
      ['Alarms', undefined],
    ]);
    const metricNames = (w: Json) =>
      w.metrics.filter((m: Json[]) => typeof m[0] === 'string').map((m: Json[]) => `${m[0]}/${m[1]}`);
    expect(metricNames(widgets[0])).toEqual([
      'KafkaBackup/kafka_backup_backups_total',
      'KafkaBackup/kafka_backup_backups_total',
      'KafkaBackup/kafka_backup_last_successful_backup_timestamp',
    ]);
    // Gauge: seconds since the last success, green to 1 h, yellow to 2 h, red beyond.
    expect(metricNames(widgets[1])).toEqual(['KafkaBackup/kafka_backup_last_successful_backup_timestamp']);
    expect(widgets[1].metrics[0][0].expression).toBe('EPOCH(FILL(ts0, REPEAT)) - FILL(ts0, REPEAT)');
    expect(widgets[1].annotations.horizontal.map((a: Json) => [a.value, a.fill, a.label])).toEqual([
      [3600, 'below', 'OK'],
      [3600, 'above', 'warning'],
      [7200, 'above', 'critical'],
    ]);
    expect(metricNames(widgets[2])).toEqual(['KafkaBackup/kafka_backup_backup_size_bytes']);
    // rate(kafka_backup_records_total[1h]): the hourly sum over the period's seconds.
    expect(metricNames(widgets[3])).toEqual(['KafkaBackup/kafka_backup_records_total']);
    expect(widgets[3].metrics[0][0]).toMatchObject({ expression: 'r0 / PERIOD(r0)', period: 3600 });
    expect(metricNames(widgets[4])).toEqual(['AWS/S3/ReplicationLatency']);
    expect(widgets[5].metrics[0]).toEqual([
      'KafkaBackup',
      'kafka_backup_dr_ready',
      'SourceClusterId',
      'prod-us-west-2',
      expect.objectContaining({ region: 'us-east-1' }),
    ]);
    expect(widgets[6].alarms).toHaveLength(4);
  });

  it('passes the cdk-nag AwsSolutions checks on every stack, each acknowledgement with a reason', () => {
    for (const stack of built.stacks.all) {
      const report = new AwsSolutionsChecks().validateScope(stack);
      const unacknowledged = report.violations.map(
        (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
      );
      expect(unacknowledged, stack.stackName).toEqual([]);
    }
    // The app registers the checks as a validation plugin: synth fails on an unacknowledged finding.
    const app = new App({ context: CONTEXT });
    buildKafkaBackupApp(app, parseDeploymentConfig(EXAMPLE), { nag: true });
    expect(() => app.synth()).not.toThrow();
    // Every acknowledgement says why.
    for (const stack of built.stacks.all) {
      for (const construct of stack.node.findAll()) {
        for (const entry of construct.node.metadata) {
          if (entry.type !== 'aws:cdk:acknowledged-rules') continue;
          for (const reason of Object.values(entry.data as Record<string, string>))
            expect(reason.length).toBeGreaterThan(40);
        }
      }
    }
  });
});

describe('SSE-KMS', { timeout: SYNTH_TIMEOUT }, () => {
  it('encrypts each bucket with a rotated key and replicates encrypted objects with the destination key', () => {
    const { stacks } = build({ ...EXAMPLE, encryption: { type: 'SSE-KMS' } });
    const primary = Template.fromStack(stacks.primary);
    const dr = Template.fromStack(stacks.dr[0]!);
    for (const template of [primary, dr]) {
      template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/kafka-backup-backups' });
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() },
            },
          ],
        },
      });
    }
    const bucket = only(
      Object.values(resourcesOf(primary, 'AWS::S3::Bucket')).filter(
        (b) => b.Properties['ReplicationConfiguration'],
      ),
    );
    const rule = (flatten(bucket.Properties['ReplicationConfiguration']) as Json).Rules[0];
    expect(rule.SourceSelectionCriteria).toEqual({ SseKmsEncryptedObjects: { Status: 'Enabled' } });
    expect(rule.Destination.EncryptionConfiguration).toEqual({
      ReplicaKmsKeyID: 'arn:aws:kms:us-east-1:111111111111:alias/kafka-backup-backups',
    });
    const statements = Object.values(resourcesOf(primary, 'AWS::IAM::Policy'))
      .flatMap((p) => p.Properties['PolicyDocument'].Statement.map(flatten))
      .filter((s: Json) => s.Sid?.startsWith('EncryptReplicas') || s.Sid === 'DecryptSourceObjects');
    expect(statements).toEqual([
      expect.objectContaining({
        Sid: 'DecryptSourceObjects',
        Action: 'kms:Decrypt',
        Resource: 'arn:aws:kms:us-west-2:111111111111:key/*',
        Condition: expect.objectContaining({
          'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/kafka-backup-backups' },
        }),
      }),
      expect.objectContaining({
        Sid: 'EncryptReplicasInuseast1',
        Action: ['kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: 'arn:aws:kms:us-east-1:111111111111:key/*',
      }),
    ]);
    for (const stack of stacks.all)
      expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });
});

describe('KafkaBackup construct', { timeout: SYNTH_TIMEOUT }, () => {
  let machines = 0;
  const stateMachine = (stack: Stack) => {
    machines += 1;
    return new sfn.StateMachine(stack, `Machine${machines}`, {
      definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, `Pass${machines}`)),
    });
  };
  const spec = EXAMPLE.primary.backups[0].spec;

  it('fails synth naming the wrong prop', () => {
    const stack = new Stack();
    expect(
      () => new KafkaBackup(stack, 'b', { ...spec, compressionLevel: 99, stateMachine: stateMachine(stack) }),
    ).toThrow(/KafkaBackup b\.compressionLevel: must be at most 22/);
    expect(
      () =>
        new KafkaBackup(stack, 'c', { ...spec, schedule: '0 0 1 * MON', stateMachine: stateMachine(stack) }),
    ).toThrow(/KafkaBackup c\.schedule: .*day-of-month and day-of-week are both restricted/);
    expect(
      () =>
        new KafkaBackup(stack, 'd', {
          ...spec,
          storage: { storageType: 's3', s3: { bucket: 's3://kafka-backups-primary', region: 'us-west-2' } },
          stateMachine: stateMachine(stack),
        }),
    ).toThrow(/KafkaBackup d: storage\.s3\.bucket: must be a bucket name only/);
  });

  it('takes the seed spec line by line', () => {
    const stack = new Stack();
    const backup = new KafkaBackup(stack, 'primary-hourly-backup', {
      schedule: '0 * * * *',
      kafkaCluster: {
        bootstrapServers: ['kafka-0.us-west-2.example.com:9092'],
        securityProtocol: 'SASL_SSL',
        saslSecret: { name: 'kafka-credentials', mechanism: 'SCRAM-SHA-256' },
        tlsSecret: { name: 'kafka-tls' },
      },
      topics: ['orders', 'payments', 'inventory', 'customers', 'events-*'],
      storage: {
        storageType: 's3',
        s3: { bucket: 'kafka-backups-primary', region: 'us-west-2', prefix: 'us-west-2/hourly' },
      },
      compression: 'zstd',
      compressionLevel: 3,
      includeOffsetHeaders: true,
      sourceClusterId: 'prod-us-west-2',
      retention: { backups: 168 },
      stateMachine: stateMachine(stack),
    });
    expect(backup.scheduleExpression).toBe('cron(0 * * * ? *)');
    expect(backup.executionInput.schedule).toBe('primary-hourly-backup');
    Template.fromStack(stack).hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 * * * ? *)',
      Target: { Input: JSON.stringify(backup.executionInput) },
    });
  });
});

describe('storage class of the segments (storage.s3.storageClass)', { timeout: SYNTH_TIMEOUT }, () => {
  it('goes into the scheduled config as storage.storage_class; the replication rule keeps each object its class', () => {
    const data = structuredClone(EXAMPLE);
    data.primary.backups[1].spec.storage.s3.storageClass = 'GLACIER_IR';
    const { stacks } = build(data);
    const primary = Template.fromStack(stacks.primary);
    const inputs = Object.values(resourcesOf(primary, 'AWS::Scheduler::Schedule')).map((s) =>
      JSON.parse(s.Properties['Target'].Input),
    );
    expect(inputs.map((i) => i.config.storage.storage_class)).toEqual([undefined, 'GLACIER_IR']);
    // No destination class: S3 gives each replica its source object's class (segments GLACIER_IR, manifests STANDARD).
    const bucket = only(
      Object.values(resourcesOf(primary, 'AWS::S3::Bucket')).filter(
        (b) => b.Properties['ReplicationConfiguration'],
      ),
    );
    for (const rule of bucket.Properties['ReplicationConfiguration'].Rules)
      expect(rule.Destination.StorageClass).toBeUndefined();
  });

  it('fails synth on an archive class, naming the spec field', () => {
    const data = structuredClone(EXAMPLE);
    data.primary.backups[0].spec.storage.s3.storageClass = 'DEEP_ARCHIVE';
    expect(() => build(data)).toThrow(
      /storage\.s3\.storageClass: DEEP_ARCHIVE is not readable without a retrieval/,
    );
  });
});

describe('deployment checks at synth', { timeout: SYNTH_TIMEOUT }, () => {
  it('refuses a backup that does not write to the primary bucket', () => {
    const data = structuredClone(EXAMPLE);
    data.primary.backups[0].spec.storage.s3.bucket = 'somewhere-else';
    expect(() => build(data)).toThrow(
      /primary\.backups primary-hourly-backup: storage\.s3 must be the primary bucket/,
    );
  });

  it('refuses a restore target reading a bucket the deployment does not have', () => {
    const data = structuredClone(EXAMPLE);
    data.restoreTargets[1].restores[0].spec.storage.s3.region = 'us-east-2';
    expect(() => build(data)).toThrow(
      /restoreTargets ap-southeast-1: storage\.s3 names kafka-backups-primary in us-east-2/,
    );
  });

  it('refuses two Kafka secrets in one region', () => {
    const data = structuredClone(EXAMPLE);
    data.primary.backups[1].spec.kafkaCluster.saslSecret.name = 'other-credentials';
    expect(() => build(data)).toThrow(
      /name different Kafka secrets \(kafka-credentials, other-credentials\)/,
    );
  });

  it('runs the Fargate task on a prebuilt image when workflows.containerImage names one (no Docker build)', () => {
    const data = structuredClone(EXAMPLE);
    data.workflows = { containerImage: '111111111111.dkr.ecr.us-west-2.amazonaws.com/kafka-backup:0.1.0' };
    const { stacks } = build(data);
    for (const stack of stacks.all) {
      const task = only(Object.values(resourcesOf(Template.fromStack(stack), 'AWS::ECS::TaskDefinition')));
      expect(task.Properties['ContainerDefinitions'][0].Image).toBe(data.workflows.containerImage);
    }
    // Without it the image is an asset: built by Docker and pushed to the bootstrap repository at deploy.
    const built = only(
      Object.values(resourcesOf(Template.fromStack(build().stacks.primary), 'AWS::ECS::TaskDefinition')),
    );
    expect(JSON.stringify(built.Properties['ContainerDefinitions'][0].Image)).toContain('container-assets');
  });

  it('replicates to every DR region with its own rule', () => {
    const data = structuredClone(EXAMPLE);
    const { drill: _drill, ...second } = structuredClone(EXAMPLE.dr[0]);
    data.dr.push({ ...second, region: 'us-east-2', bucketName: 'kafka-backups-dr-2', restores: [] });
    const { stacks } = build(data);
    const bucket = only(
      Object.values(resourcesOf(Template.fromStack(stacks.primary), 'AWS::S3::Bucket')).filter(
        (b) => b.Properties['ReplicationConfiguration'],
      ),
    );
    const rules = (flatten(bucket.Properties['ReplicationConfiguration']) as Json).Rules;
    expect(rules.map((r: Json) => [r.Id, r.Priority, r.Destination.Bucket])).toEqual([
      ['KafkaBackupReplication-us-east-1', 1, 'arn:aws:s3:::kafka-backups-dr'],
      ['KafkaBackupReplication-us-east-2', 2, 'arn:aws:s3:::kafka-backups-dr-2'],
    ]);
    expect(stacks.all.map((s) => s.stackName)).toContain('kafka-backup-us-east-2');
  });
});

describe('DR readiness', { timeout: SYNTH_TIMEOUT }, () => {
  it('checks the replicated backup locations every 5 minutes, read-only, outside the VPC', () => {
    const { stacks } = build();
    const dr = Template.fromStack(stacks.dr[0]!);
    const readiness = stacks.dr[0]!.readiness!;
    const fn =
      dr.toJSON().Resources[Stack.of(readiness).getLogicalId(readiness.function.node.defaultChild as never)];
    expect(JSON.parse(fn.Properties.Environment.Variables.DR_READINESS_TARGETS)).toEqual([
      {
        sourceClusterId: 'prod-us-west-2',
        bucket: 'kafka-backups-dr',
        region: 'us-east-1',
        prefix: 'us-west-2/hourly',
      },
      {
        sourceClusterId: 'prod-us-west-2',
        bucket: 'kafka-backups-dr',
        region: 'us-east-1',
        prefix: 'us-west-2/daily',
      },
    ]);
    expect(fn.Properties.Environment.Variables.DR_READINESS_MAX_AGE_SECONDS).toBe('7200');
    expect(fn.Properties.VpcConfig).toBeUndefined();
    const role = fn.Properties.Role['Fn::GetAtt'][0];
    const policy = only(
      Object.values(resourcesOf(dr, 'AWS::IAM::Policy')).filter(
        (p) => JSON.stringify(p.Properties['Roles']) === JSON.stringify([{ Ref: role }]),
      ),
    );
    const actions = policy.Properties['PolicyDocument'].Statement.flatMap((s: Json) => s.Action);
    // Read-only in S3; besides, the X-Ray trace writes of the Powertools Tracer (functions/middleware.ts) and the
    // public half of the drill's evidence key (to verify the evidence it counts).
    expect(actions.filter((a: string) => !/^s3:(Get|List)/.test(a)).sort()).toEqual([
      'kms:GetPublicKey',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    expect(
      JSON.parse(flatten(fn.Properties.Environment.Variables.DR_READINESS_DRILL_EVIDENCE) as string),
    ).toEqual({
      sourceClusterId: 'prod-us-west-2',
      bucket: 'kafka-backups-dr',
      region: 'us-east-1',
      prefix: 'us-west-2/hourly',
      keyArn: '<token>',
    });
    expect(JSON.stringify(policy.Properties['PolicyDocument'])).toContain('/us-west-2/hourly/evidence/*');
    expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    expect(JSON.stringify(policy.Properties['PolicyDocument'])).toContain('/us-west-2/hourly/backups/*');
    // Every workflow function runs in the DR VPC.
    for (const [id, f] of Object.entries(resourcesOf(dr, 'AWS::Lambda::Function'))) {
      if (id.startsWith('WorkflowFunctions')) {
        expect(f.Properties['VpcConfig'].SubnetIds).toEqual(EXAMPLE.dr[0].network.subnetIds);
      }
    }
  });
});

describe('DR drill', { timeout: SYNTH_TIMEOUT }, () => {
  let built: ReturnType<typeof build>;
  let dr: Template;
  beforeAll(() => {
    built = build();
    dr = Template.fromStack(built.stacks.dr[0]!);
  }, SYNTH_TIMEOUT);

  const idOf = (c: { node: { defaultChild?: unknown } }) =>
    Stack.of(built.stacks.dr[0]!).getLogicalId(c.node.defaultChild as never);

  it('runs on its schedule from the deployment file, the deployment’s drill being the default input', () => {
    const schedule = only(
      Object.values(resourcesOf(dr, 'AWS::Scheduler::Schedule')).filter(
        (x) => x.Properties['Name'] === 'drill',
      ),
    );
    expect(schedule.Properties).toMatchObject({
      GroupName: 'kafka-backup',
      ScheduleExpression: 'cron(0 4 ? * 2#1 *)',
      ScheduleExpressionTimezone: 'UTC',
    });
    const drill = built.stacks.dr[0]!.drill!;
    expect(schedule.Properties['Target'].Arn).toEqual({ Ref: idOf(drill.stateMachine) });
    expect(JSON.parse(schedule.Properties['Target'].Input)).toEqual({
      trigger: { via: 'schedule', principal: 'EventBridge Scheduler schedule kafka-backup/drill' },
    });
    const definition = JSON.parse(
      flatten(
        resourcesOf(dr, 'AWS::StepFunctions::StateMachine')[idOf(drill.stateMachine)]!.Properties[
          'DefinitionString'
        ],
      ) as string,
    );
    const defaults = JSON.parse(
      /States\.StringToJson\('(.*)'\), \$, false\)$/.exec(
        definition.States.ApplyDefaults.Parameters['input.$'],
      )![1]!,
    );
    expect(defaults).toEqual({
      drill: {
        kind: 'backup',
        namespace: 'kafka-backup-drill',
        config: expect.objectContaining({
          target: expect.objectContaining({ bootstrap_servers: ['kafka-0.us-east-1.example.com:9092'] }),
          storage: {
            backend: 's3',
            bucket: 'kafka-backups-dr',
            region: 'us-east-1',
            prefix: 'us-west-2/hourly',
          },
        }),
        topics: { include: ['orders', 'payments'], exclude: [] },
        source_cluster_id: 'prod-us-west-2',
      },
      trigger: { via: 'workflow' },
    });
  });

  it('signs with a retained ECC_NIST_P256 key of its own: output, env var of RunDrill, kms:Sign only there', () => {
    const drill = built.stacks.dr[0]!.drill!;
    const keyId = Stack.of(drill).getLogicalId(drill.evidenceKey.node.defaultChild as never);
    const key = resourcesOf(dr, 'AWS::KMS::Key')[keyId]! as Json;
    expect(key.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    expect(key.DeletionPolicy).toBe('Retain');
    const outputs = dr.toJSON().Outputs;
    expect(outputs.EvidenceKeyArn.Value).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(outputs.DrillStateMachineArn.Value).toEqual({ Ref: idOf(drill.stateMachine) });
    const run = drill.functions.fn('drill-run');
    const fn = resourcesOf(dr, 'AWS::Lambda::Function')[idOf(run)]!;
    expect(fn.Properties['Environment'].Variables.KAFKA_BACKUP_EVIDENCE_KMS_KEY_ID).toEqual({
      'Fn::GetAtt': [keyId, 'Arn'],
    });
    expect(fn.Properties['VpcConfig'].SubnetIds).toEqual(EXAMPLE.dr[0].network.subnetIds);
    // Who may use the key, and for what.
    const uses = Object.values(resourcesOf(dr, 'AWS::IAM::Policy')).flatMap((p) =>
      p.Properties['PolicyDocument'].Statement.filter((s: Json) =>
        JSON.stringify(s.Resource).includes(`"${keyId}"`),
      ).map((s: Json) => [p.Properties['Roles'][0].Ref, [s.Action].flat().sort()]),
    );
    const roleOf = (f: { node: { defaultChild?: unknown } }) =>
      (resourcesOf(dr, 'AWS::Lambda::Function')[idOf(f)]!.Properties['Role'] as Json)['Fn::GetAtt'][0];
    expect(uses).toEqual(
      expect.arrayContaining([
        [roleOf(run), ['kms:GetPublicKey', 'kms:Sign']],
        [roleOf(built.stacks.dr[0]!.readiness!.function), ['kms:GetPublicKey']],
      ]),
    );
    expect(uses).toHaveLength(2);
  });

  it('makes the drill functions in the DR stack only', () => {
    const names = (t: Template) =>
      Object.values(resourcesOf(t, 'AWS::Lambda::Function')).map((f) => String(f.Properties['Handler']));
    expect(names(dr)).toEqual(expect.arrayContaining(['index.drillRun', 'index.drillCleanup']));
    for (const stack of [built.stacks.primary, ...built.stacks.restoreTargets]) {
      const handlers = names(Template.fromStack(stack));
      expect(
        handlers.filter((h) => /drill/i.test(h)),
        stack.stackName,
      ).toEqual([]);
    }
  });

  it('alarms when a drill fails and when none passed for maxDaysWithoutPass days', () => {
    const alarms = Object.fromEntries(
      Object.values(resourcesOf(dr, 'AWS::CloudWatch::Alarm')).map((a) => [
        a.Properties['AlarmName'],
        a.Properties,
      ]),
    );
    const none = alarms['NoDrillPassed-prod-us-west-2-us-east-1'];
    expect(none).toMatchObject({
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 35,
      EvaluationPeriods: 1,
      TreatMissingData: 'breaching',
    });
    expect(none['Metrics'][0].MetricStat).toEqual({
      Metric: {
        Namespace: 'KafkaBackup',
        MetricName: 'kafka_backup_days_since_drill_passed',
        Dimensions: [{ Name: 'SourceClusterId', Value: 'prod-us-west-2' }],
      },
      Period: 3600,
      Stat: 'Maximum',
    });
    const failed = alarms['KafkaDrillWorkflowFailed-us-east-1'];
    expect(JSON.stringify(failed['Metrics'])).toContain('ExecutionsFailed');
    expect(JSON.stringify(failed['Metrics'])).toContain(idOf(built.stacks.dr[0]!.drill!.stateMachine));
  });

  it('refuses a drill naming a restore the region does not have, a synthetic drill without its source, a bad schedule', () => {
    const withDrill = (drill: Record<string, unknown>) => {
      const data = structuredClone(EXAMPLE);
      data.dr[0].drill = drill;
      return () => parseDeploymentConfig(data);
    };
    expect(withDrill({ restore: 'nope' })).toThrow(
      /dr\[0\]\.drill\.restore: "nope" is not a restore of this region \(dr-restore\)/,
    );
    expect(withDrill({ kind: 'synthetic' })).toThrow(
      /dr\[0\]\.drill\.synthetic: required for kind synthetic/,
    );
    expect(withDrill({ kind: 'synthetic', synthetic: { backup: 'nope' } })).toThrow(
      /dr\[0\]\.drill\.synthetic\.backup: "nope" is not a primary backup \(primary-hourly-backup, primary-daily-backup\)/,
    );
    expect(withDrill({ schedule: '0 4 1 * MON' })).toThrow(/dr\[0\]\.drill\.schedule: .*both restricted/);
    expect(withDrill({ namespace: 'x' })).toThrow(/dr\[0\]\.drill\.namespace: must be 6 to 60/);
    expect(withDrill({ maxDaysWithoutPass: 0 })).toThrow(/dr\[0\]\.drill\.maxDaysWithoutPass/);
    expect(withDrill({ scheduel: '0 4 * * MON#1' })).toThrow(/dr\[0\]\.drill\.scheduel: unknown field/);
  });
});
