import { Annotations, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { BackupBucket } from './constructs/backup-bucket.ts';
import { ClientSideKeys } from './constructs/client-side-keys.ts';
import { DrReadinessCheck } from './constructs/dr-readiness.ts';
import { KafkaBackup } from './constructs/kafka-backup.ts';
import { KafkaNetwork, portsOf } from './constructs/kafka-network.ts';
import { KafkaRestore } from './constructs/kafka-restore.ts';
import {
  BackupAlarms,
  BackupDashboard,
  DrReadinessAlarms,
  ReplicationAlarms,
  workflowFailedAlarm,
} from './constructs/monitoring.ts';
import { BackupReplication, type ReplicationDestination } from './constructs/replication.ts';
import {
  type DeploymentConfig,
  type DrRegionConfig,
  type NetworkConfig,
  objectLockDays,
  type RestoreTargetConfig,
  replicationPrefix,
} from './deployment-config.ts';
import type { ReadinessTarget } from './dr-readiness/targets.ts';
import { acknowledgeJustified, WORKFLOW_JUSTIFICATIONS } from './nag.ts';
import {
  KafkaBackupSpec,
  KafkaRestoreSpec,
  type ParsedKafkaBackupSpec,
  type ParsedKafkaRestoreSpec,
  parseSpec,
  SpecError,
} from './specs.ts';
import { logKeyFor } from './workflows/functions.ts';
import { BackupWorkflow, FailbackWorkflow, FailoverWorkflow, WorkflowFunctions } from './workflows/index.ts';
import type { WorkflowAccess, WorkflowHooks } from './workflows/props.ts';

export type RegionRole = 'primary' | 'dr' | 'restore-target';

export interface RegionStackProps extends StackProps {
  readonly deployment: DeploymentConfig;
}

/** `kafka-backup-us-west-2`: what `cdk deploy` is given. */
export function stackName(deployment: DeploymentConfig, region: string): string {
  return `${deployment.namePrefix}-${region}`;
}

/** Alias of a region's bucket key under SSE-KMS: deterministic, so other regions' stacks can name it. */
export function bucketKeyAlias(deployment: DeploymentConfig): string {
  return `alias/${deployment.namePrefix}-backups`;
}

/** What every region has: the Kafka VPC wiring, an ECS cluster, the alarm topic, a schedule group. */
abstract class RegionStack extends Stack {
  readonly role: RegionRole;
  readonly deployment: DeploymentConfig;
  readonly network: KafkaNetwork;
  readonly alarmTopic: sns.Topic;
  readonly scheduleGroup: scheduler.ScheduleGroup;
  readonly alarms: cloudwatch.IAlarm[] = [];
  /** Encrypts the alarm topic and every log group of the stack. */
  readonly logKey: kms.Key;
  /** What the execution inputs of this region's workflows may name (lib/workflow/policy.ts). */
  readonly access: WorkflowAccess;
  readonly hooks: WorkflowHooks;
  /** The client-side encryption keys (clientSideEncryption in the deployment file); absent when it is off. */
  readonly clientSideKeys: ClientSideKeys | undefined;

  protected constructor(
    scope: Construct,
    id: string,
    props: RegionStackProps,
    region: {
      role: RegionRole;
      network: NetworkConfig;
      alarmEmails: readonly string[];
      kafkaServers: string[];
      /** The Kafka clusters the workflows may connect to, each its bootstrap servers. */
      kafkaClusters: readonly (readonly string[])[];
      hooks: WorkflowHooks;
    },
  ) {
    super(scope, id, props);
    this.role = region.role;
    this.deployment = props.deployment;
    const w = props.deployment.workflows;
    this.access = {
      kafkaClusters: distinctClusters(region.kafkaClusters),
      storageEndpoints: w.storageEndpoints,
      configVariables: w.configVariables,
    };
    this.hooks = region.hooks;
    this.logKey = logKeyFor(this, 'LogKey');
    this.clientSideKeys = props.deployment.clientSideEncryption.enabled
      ? new ClientSideKeys(this, 'ClientSideEncryption', { deployment: props.deployment })
      : undefined;

    this.network = new KafkaNetwork(this, 'Network', {
      vpcId: region.network.vpcId,
      vpcCidr: region.network.vpcCidr,
      availabilityZones: region.network.availabilityZones,
      subnetIds: region.network.subnetIds,
      kafkaCidrs: region.network.kafkaCidrs,
      kafkaPorts: portsOf([...region.kafkaServers, ...region.kafkaClusters.flat()]),
      securityGroupIds: region.network.securityGroupIds,
      ...(region.network.httpsEgress && { httpsEgress: region.network.httpsEgress }),
    });

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `kafka-backup alarms (${this.region})`,
      enforceSSL: true,
      masterKey: this.logKey,
    });
    for (const email of region.alarmEmails) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(email));
    }

    this.scheduleGroup = new scheduler.ScheduleGroup(this, 'Schedules', {
      scheduleGroupName: props.deployment.namePrefix,
    });

    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
  }

  /** The one Kafka secret of this region's specs (the workflows read one), imported by name or ARN. */
  protected kafkaSecret(names: readonly (string | undefined)[]): secretsmanager.ISecret | undefined {
    const distinct = [...new Set(names.filter((n): n is string => n !== undefined))];
    if (distinct.length === 0) return undefined;
    if (distinct.length > 1) {
      throw new SpecError(
        `${this.stackName}: the specs of ${this.region} name different Kafka secrets (${distinct.join(', ')}); ` +
          'the workflows of a region read one: use one secret (one cluster) per region',
      );
    }
    return importSecret(this, 'KafkaSecret', distinct[0]!);
  }

  protected workflowFunctions(
    bucket: s3.IBucket,
    kafkaSecret: secretsmanager.ISecret | undefined,
    restoreOnly = false,
  ) {
    return new WorkflowFunctions(this, 'WorkflowFunctions', {
      bucket,
      access: this.access,
      logKey: this.logKey,
      restoreOnly,
      vpc: this.network.vpc,
      vpcSubnets: this.network.vpcSubnets,
      securityGroups: this.network.securityGroups,
      kafkaSecret,
      cluster: this.network.cluster,
      ...(this.clientSideKeys && { clientSideEncryption: this.clientSideKeys }),
      ...(this.deployment.workflows.lambdaTimeoutSeconds !== undefined && {
        lambdaTimeout: Duration.seconds(this.deployment.workflows.lambdaTimeoutSeconds),
      }),
      ...(this.deployment.workflows.containerImage !== undefined && {
        containerImage: ecs.ContainerImage.fromRegistry(this.deployment.workflows.containerImage),
      }),
    });
  }

  protected workflowProps(
    bucket: s3.IBucket,
    kafkaSecret: secretsmanager.ISecret | undefined,
    functions: WorkflowFunctions,
  ) {
    return {
      bucket,
      vpc: this.network.vpc,
      vpcSubnets: this.network.vpcSubnets,
      securityGroups: this.network.securityGroups,
      kafkaSecret,
      cluster: this.network.cluster,
      notificationTopic: this.alarmTopic,
      functions,
      access: this.access,
      hooks: this.hooks,
      logKey: this.logKey,
      logExecutionData: this.deployment.workflows.logExecutionData,
      ...(this.deployment.workflows.maxConcurrency !== undefined && {
        maxConcurrency: this.deployment.workflows.maxConcurrency,
      }),
      ...(this.deployment.workflows.lambdaTimeoutSeconds !== undefined && {
        lambdaTimeout: Duration.seconds(this.deployment.workflows.lambdaTimeoutSeconds),
      }),
    };
  }

  protected addWorkflowAlarm(id: string, stateMachine: sfn.IStateMachine, what: string): void {
    const alarm = workflowFailedAlarm(this, id, stateMachine, what);
    alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
  }
}

/**
 * The primary region (us-west-2 in the guide): the bucket backups are written to, replicated to every DR bucket;
 * the backup workflow and the KafkaBackup schedules; the backup and replication alarms and the dashboard.
 */
export class PrimaryStack extends RegionStack {
  readonly bucket: BackupBucket;
  readonly replication: BackupReplication;
  readonly backups: KafkaBackup[];
  readonly backupWorkflow: BackupWorkflow;
  readonly dashboard: BackupDashboard;

  constructor(scope: Construct, id: string, props: RegionStackProps) {
    const d = props.deployment;
    const specs = d.primary.backups.map((b) => ({
      name: b.name,
      spec: parseSpec(KafkaBackupSpec, b.spec, `primary.backups ${b.name}`),
    }));
    super(scope, id, props, {
      role: 'primary',
      network: d.primary.network,
      alarmEmails: d.primary.alarmEmails,
      kafkaServers: specs.flatMap((s) => s.spec.kafkaCluster.bootstrapServers),
      kafkaClusters: [
        ...specs.map((s) => s.spec.kafkaCluster.bootstrapServers),
        ...d.primary.kafkaClusters.map((c) => c.bootstrapServers),
      ],
      hooks: d.primary.hooks,
    });
    this.templateOptions.description = `kafka-backup primary (${this.region}): backups of Kafka into s3://${d.primary.bucketName}, replicated to ${d.dr.map((r) => r.region).join(', ')}`;
    for (const { name, spec } of specs) checkBackupStorage(name, spec, d.primary.bucketName, this.region);

    const kms = d.encryption.type === 'SSE-KMS';
    const destinations: ReplicationDestination[] = d.dr.map((dr) => ({
      bucketName: dr.bucketName,
      region: dr.region,
      ...(kms && { kmsKeyAlias: bucketKeyAlias(d) }),
    }));
    this.replication = new BackupReplication(this, 'Replication', {
      sourceBucketName: d.primary.bucketName,
      ...(kms && { sourceKmsKeyAlias: bucketKeyAlias(d) }),
      destinations,
      prefix: replicationPrefix(d),
      ruleId: d.replication.ruleId,
      priority: d.replication.priority,
      deleteMarkerReplication: d.replication.deleteMarkerReplication,
      objectLock: objectLockDays(d) !== undefined,
    });
    this.bucket = new BackupBucket(this, 'Backups', {
      ...bucketProps(d, d.primary.bucketName),
      replicationRules: this.replication.rules,
      replicationRole: this.replication.role,
    });
    this.replication.applyDestinationKeys(this.bucket.bucket, destinations);

    const kafkaSecret = this.kafkaSecret(specs.map((s) => secretOf(s.spec.kafkaCluster)));
    const functions = this.workflowFunctions(this.bucket.bucket, kafkaSecret);
    this.backupWorkflow = new BackupWorkflow(
      this,
      'BackupWorkflow',
      this.workflowProps(this.bucket.bucket, kafkaSecret, functions),
    );

    this.backups = specs.map(
      ({ name, spec }) =>
        new KafkaBackup(this, `KafkaBackup-${name}`, {
          name,
          ...spec,
          stateMachine: this.backupWorkflow.stateMachine,
          scheduleGroup: this.scheduleGroup,
        }),
    );

    const clusters = sourceClusterIds(specs.map((s) => s.spec));
    for (const backup of this.backups) {
      if (backup.spec.sourceClusterId === undefined) {
        Annotations.of(backup).addWarningV2(
          'kafka-backup:NoSourceClusterId',
          `KafkaBackup ${backup.name} has no sourceClusterId: the backup alarms and dashboard watch clusters by id, so they do not cover it`,
        );
      }
    }
    const backupAlarms = new BackupAlarms(this, 'BackupAlarms', {
      topic: this.alarmTopic,
      sourceClusterIds: clusters,
      backupStateMachine: this.backupWorkflow.stateMachine,
    });
    const replicationAlarms = new ReplicationAlarms(this, 'ReplicationAlarms', {
      topic: this.alarmTopic,
      sourceBucketName: d.primary.bucketName,
      rules: this.replication.ruleInfos,
    });
    this.alarms.push(...backupAlarms.alarms, ...replicationAlarms.alarms);

    this.dashboard = new BackupDashboard(this, 'Dashboard', {
      dashboardName: `${d.namePrefix}-dr-status`,
      sourceClusterIds: clusters,
      sourceBucketName: d.primary.bucketName,
      replicationRules: this.replication.ruleInfos,
      drRegions: d.dr.map((dr) => dr.region),
      alarms: this.alarms,
    });

    new CfnOutput(this, 'BucketName', { value: this.bucket.bucket.bucketName });
    new CfnOutput(this, 'BackupStateMachineArn', { value: this.backupWorkflow.stateMachine.stateMachineArn });
    acknowledgeJustified(this, WORKFLOW_JUSTIFICATIONS);
  }
}

/**
 * A DR region (us-east-1 in the guide): the replica bucket, the failover workflow (restore the newest backup into
 * the DR cluster) and the failback workflow, the KafkaRestore inputs, and the DR-readiness alarms.
 */
export class DrStack extends RegionStack {
  readonly bucket: BackupBucket;
  readonly failoverWorkflow: FailoverWorkflow;
  readonly failbackWorkflow: FailbackWorkflow;
  readonly restores: KafkaRestore[];
  /** Reports kafka_backup_dr_ready; absent when no backup names a sourceClusterId. */
  readonly readiness?: DrReadinessCheck;

  constructor(scope: Construct, id: string, props: RegionStackProps & { readonly dr: DrRegionConfig }) {
    const d = props.deployment;
    const dr = props.dr;
    const specs = dr.restores.map((r) => ({
      name: r.name,
      spec: parseSpec(KafkaRestoreSpec, r.spec, `dr ${dr.region} restores ${r.name}`),
    }));
    super(scope, id, props, {
      role: 'dr',
      network: dr.network,
      alarmEmails: dr.alarmEmails,
      kafkaServers: specs.flatMap((s) => s.spec.targetCluster.bootstrapServers),
      // Failover restores into the DR cluster; failback backs it up and restores into the primary cluster.
      kafkaClusters: [
        ...specs.map((s) => s.spec.targetCluster.bootstrapServers),
        ...d.primary.backups.map(
          (b) =>
            parseSpec(KafkaBackupSpec, b.spec, `primary.backups ${b.name}`).kafkaCluster.bootstrapServers,
        ),
        ...dr.kafkaClusters.map((c) => c.bootstrapServers),
      ],
      hooks: dr.hooks,
    });
    this.templateOptions.description = `kafka-backup DR (${this.region}): replica bucket s3://${dr.bucketName} of ${d.primary.region}, failover and failback workflows`;

    this.bucket = new BackupBucket(this, 'Backups', {
      ...bucketProps(d, dr.bucketName),
    });

    const kafkaSecret = this.kafkaSecret(specs.map((s) => secretOf(s.spec.targetCluster)));
    const functions = this.workflowFunctions(this.bucket.bucket, kafkaSecret);
    const workflowProps = this.workflowProps(this.bucket.bucket, kafkaSecret, functions);
    this.failoverWorkflow = new FailoverWorkflow(this, 'FailoverWorkflow', workflowProps);
    this.failbackWorkflow = new FailbackWorkflow(this, 'FailbackWorkflow', workflowProps);

    this.restores = specs.map(({ name, spec }) => {
      const readsHere = spec.storage.s3.bucket === dr.bucketName && spec.storage.s3.region === this.region;
      if (!readsHere) {
        throw new SpecError(
          `dr ${dr.region} restores ${name}: storage.s3 must be this region's replica bucket ` +
            `(bucket ${dr.bucketName}, region ${this.region}), not ${spec.storage.s3.bucket} in ${spec.storage.s3.region}`,
        );
      }
      return new KafkaRestore(this, `KafkaRestore-${name}`, {
        name,
        ...spec,
        stateMachine: this.failoverWorkflow.stateMachine,
        scheduleGroup: this.scheduleGroup,
        parameterName: `/${d.namePrefix}/restores/${name}`,
      });
    });

    // What the DR side should hold: each primary backup location that replicates here, and each restore's source.
    const prefix = replicationPrefix(d);
    const readinessTargets = new Map<string, ReadinessTarget>();
    for (const b of d.primary.backups) {
      const spec = parseSpec(KafkaBackupSpec, b.spec, `primary.backups ${b.name}`);
      const location = spec.storage.s3.prefix.replace(/^\/+|\/+$/g, '');
      if (spec.sourceClusterId === undefined || !`${location}/`.startsWith(prefix)) continue;
      readinessTargets.set(`${spec.sourceClusterId} ${location}`, {
        sourceClusterId: spec.sourceClusterId,
        bucket: dr.bucketName,
        region: this.region,
        prefix: location,
      });
    }
    for (const { spec } of specs) {
      const cluster = spec.offsetReset?.sourceCluster;
      if (cluster === undefined) continue;
      const location = spec.storage.s3.prefix.replace(/^\/+|\/+$/g, '');
      readinessTargets.set(`${cluster} ${location}`, {
        sourceClusterId: cluster,
        bucket: dr.bucketName,
        region: this.region,
        prefix: location,
      });
    }
    const targets = [...readinessTargets.values()];
    if (targets.length > 0) {
      this.readiness = new DrReadinessCheck(this, 'DrReadiness', {
        bucket: this.bucket.bucket,
        logKey: this.logKey,
        targets,
        scheduleGroup: this.scheduleGroup,
        ...(this.clientSideKeys && { clientSideEncryption: this.clientSideKeys }),
      });
    }
    const drAlarms = new DrReadinessAlarms(this, 'DrReadinessAlarms', {
      topic: this.alarmTopic,
      sourceClusterIds: [...new Set(targets.map((t) => t.sourceClusterId))],
    });
    this.alarms.push(...drAlarms.alarms);
    this.addWorkflowAlarm('KafkaFailoverWorkflowFailed', this.failoverWorkflow.stateMachine, 'failover');
    this.addWorkflowAlarm('KafkaFailbackWorkflowFailed', this.failbackWorkflow.stateMachine, 'failback');

    new CfnOutput(this, 'BucketName', { value: this.bucket.bucket.bucketName });
    new CfnOutput(this, 'FailoverStateMachineArn', {
      value: this.failoverWorkflow.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'FailbackStateMachineArn', {
      value: this.failbackWorkflow.stateMachine.stateMachineArn,
    });
    acknowledgeJustified(this, WORKFLOW_JUSTIFICATIONS);
  }
}

/**
 * An extra restore target (the guide's analytics eu-west-1 and APAC ap-southeast-1 clusters): no bucket of its
 * own; its restore workflow reads the bucket its KafkaRestore specs name, in that bucket's region.
 */
export class RestoreTargetStack extends RegionStack {
  readonly sourceBucket: s3.IBucket;
  readonly restoreWorkflow: FailoverWorkflow;
  readonly restores: KafkaRestore[];

  constructor(
    scope: Construct,
    id: string,
    props: RegionStackProps & { readonly target: RestoreTargetConfig },
  ) {
    const d = props.deployment;
    const target = props.target;
    const specs = target.restores.map((r) => ({
      name: r.name,
      spec: parseSpec(KafkaRestoreSpec, r.spec, `restoreTargets ${target.region} restores ${r.name}`),
    }));
    super(scope, id, props, {
      role: 'restore-target',
      network: target.network,
      alarmEmails: target.alarmEmails,
      kafkaServers: specs.flatMap((s) => s.spec.targetCluster.bootstrapServers),
      kafkaClusters: [
        ...specs.map((s) => s.spec.targetCluster.bootstrapServers),
        ...target.kafkaClusters.map((c) => c.bootstrapServers),
      ],
      hooks: target.hooks,
    });

    const sources = [...new Set(specs.map((s) => `${s.spec.storage.s3.bucket} ${s.spec.storage.s3.region}`))];
    if (sources.length !== 1) {
      throw new SpecError(
        `restoreTargets ${target.region}: the restores read different buckets (${sources.join('; ')}); the restore workflow of a region reads one`,
      );
    }
    const [bucketName, bucketRegion] = sources[0]!.split(' ') as [string, string];
    const known = [d.primary, ...d.dr].find((r) => r.bucketName === bucketName);
    if (!known || known.region !== bucketRegion) {
      throw new SpecError(
        `restoreTargets ${target.region}: storage.s3 names ${bucketName} in ${bucketRegion}, which is not the primary or a DR bucket of this deployment`,
      );
    }
    this.templateOptions.description = `kafka-backup restore target (${this.region}, ${target.purpose}): restores from s3://${bucketName} (${bucketRegion})`;
    this.sourceBucket = s3.Bucket.fromBucketAttributes(this, 'SourceBucket', {
      bucketName,
      bucketArn: `arn:${this.partition}:s3:::${bucketName}`,
      region: bucketRegion,
      account: this.account,
    });

    const kafkaSecret = this.kafkaSecret(specs.map((s) => secretOf(s.spec.targetCluster)));
    // A restore target only reads backups (of another region's bucket) and writes its restore state there.
    const functions = this.workflowFunctions(this.sourceBucket, kafkaSecret, true);
    if (d.encryption.type === 'SSE-KMS') {
      // The bucket's key lives in its own region's stack: allow decrypting through S3 there, by alias.
      const statement = new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [`arn:${this.partition}:kms:${bucketRegion}:${this.account}:key/*`],
        conditions: {
          'ForAnyValue:StringEquals': { 'kms:ResourceAliases': bucketKeyAlias(d) },
          StringEquals: { 'kms:ViaService': `s3.${bucketRegion}.amazonaws.com` },
        },
      });
      for (const fn of Object.values(functions.functions)) fn.addToRolePolicy(statement);
      functions.taskDefinition.taskRole.addToPrincipalPolicy(statement);
    }
    this.restoreWorkflow = new FailoverWorkflow(
      this,
      'RestoreWorkflow',
      this.workflowProps(this.sourceBucket, kafkaSecret, functions),
    );

    this.restores = specs.map(
      ({ name, spec }) =>
        new KafkaRestore(this, `KafkaRestore-${name}`, {
          name,
          ...spec,
          stateMachine: this.restoreWorkflow.stateMachine,
          scheduleGroup: this.scheduleGroup,
          parameterName: `/${d.namePrefix}/restores/${name}`,
        }),
    );
    this.addWorkflowAlarm('KafkaRestoreWorkflowFailed', this.restoreWorkflow.stateMachine, 'restore');

    new CfnOutput(this, 'RestoreStateMachineArn', {
      value: this.restoreWorkflow.stateMachine.stateMachineArn,
    });
    acknowledgeJustified(this, WORKFLOW_JUSTIFICATIONS);
  }
}

function bucketProps(d: DeploymentConfig, bucketName: string) {
  const lockDays = objectLockDays(d);
  return {
    ...(lockDays !== undefined && { objectLock: { mode: d.objectLock.mode, days: lockDays } }),
    bucketName,
    encryption: d.encryption.type,
    ...(d.encryption.type === 'SSE-KMS' && { keyAlias: bucketKeyAlias(d) }),
    noncurrentVersionExpiration: Duration.days(d.lifecycle.noncurrentVersionExpirationDays),
    abortIncompleteMultipartUploadAfter: Duration.days(d.lifecycle.abortIncompleteMultipartUploadDays),
    accessLogExpiration: Duration.days(d.lifecycle.accessLogExpirationDays),
  };
}

function checkBackupStorage(
  name: string,
  spec: ParsedKafkaBackupSpec,
  bucketName: string,
  region: string,
): void {
  if (spec.storage.s3.bucket !== bucketName || spec.storage.s3.region !== region) {
    throw new SpecError(
      `primary.backups ${name}: storage.s3 must be the primary bucket (bucket ${bucketName}, region ${region}), ` +
        `not ${spec.storage.s3.bucket} in ${spec.storage.s3.region}`,
    );
  }
}

/** The source cluster ids the alarms and dashboard watch (backups without one cannot be watched by id). */
export function sourceClusterIds(
  specs: readonly (ParsedKafkaBackupSpec | ParsedKafkaRestoreSpec)[],
): string[] {
  const ids = specs.flatMap((s) => ('sourceClusterId' in s && s.sourceClusterId ? [s.sourceClusterId] : []));
  return [...new Set(ids)];
}

/**
 * The secret the workflows read for a cluster: saslSecret (credentials, plus the CA as `ssl_ca_pem` if needed), or
 * tlsSecret alone for an SSL cluster without SASL.
 */
function secretOf(cluster: ParsedKafkaBackupSpec['kafkaCluster']): string | undefined {
  return cluster.saslSecret?.name ?? cluster.tlsSecret?.name;
}

function distinctClusters(clusters: readonly (readonly string[])[]): string[][] {
  const seen = new Map<string, string[]>();
  for (const c of clusters) {
    const servers = [...c];
    const key = servers
      .map((x) => x.toLowerCase())
      .sort()
      .join(',');
    if (!seen.has(key)) seen.set(key, servers);
  }
  return [...seen.values()];
}

function importSecret(scope: Construct, id: string, nameOrArn: string): secretsmanager.ISecret {
  if (!nameOrArn.startsWith('arn:')) return secretsmanager.Secret.fromSecretNameV2(scope, id, nameOrArn);
  // A complete ARN ends in the 6 random characters Secrets Manager appends to the name.
  return /-[A-Za-z0-9]{6}$/.test(nameOrArn)
    ? secretsmanager.Secret.fromSecretCompleteArn(scope, id, nameOrArn)
    : secretsmanager.Secret.fromSecretPartialArn(scope, id, nameOrArn);
}
