import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { ClientSideKeys } from '../constructs/client-side-keys.ts';
import { KafkaNetwork, portsOf } from '../constructs/kafka-network.ts';
import { workflowFailedAlarm } from '../constructs/monitoring.ts';
import { type DeploymentConfig, type NetworkConfig, objectLockDays } from '../deployment-config.ts';
import { type ParsedKafkaBackupSpec, type ParsedKafkaRestoreSpec, SpecError } from '../specs.ts';
import { logKeyFor } from '../workflows/functions.ts';
import { WorkflowFunctions } from '../workflows/index.ts';
import type { WorkflowAccess, WorkflowHooks } from '../workflows/props.ts';

// What the three kinds of region stack share (primary-stack.ts, dr-stack.ts, restore-target-stack.ts).

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
/** What every region has: the Kafka VPC wiring, an ECS cluster, the alarm topic, a schedule group. */
export abstract class RegionStack extends Stack {
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

export function bucketProps(d: DeploymentConfig, bucketName: string) {
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

export function checkBackupStorage(
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
export function secretOf(cluster: ParsedKafkaBackupSpec['kafkaCluster']): string | undefined {
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
