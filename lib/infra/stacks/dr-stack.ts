import { CfnOutput } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ReadinessTarget } from '../../dr/readiness-targets.ts';
import { BackupBucket } from '../constructs/backup-bucket.ts';
import { DrReadinessCheck } from '../constructs/dr-readiness.ts';
import { KafkaRestore } from '../constructs/kafka-restore.ts';
import { DrReadinessAlarms } from '../constructs/monitoring.ts';
import { type DeploymentConfig, type DrRegionConfig, replicationPrefix } from '../deployment-config.ts';
import { acknowledgeJustified, WORKFLOW_JUSTIFICATIONS } from '../nag.ts';
import {
  KafkaBackupSpec,
  KafkaRestoreSpec,
  type ParsedKafkaRestoreSpec,
  parseSpec,
  SpecError,
} from '../specs.ts';
import { FailbackWorkflow, FailoverWorkflow } from '../workflows/index.ts';
import { bucketProps, RegionStack, type RegionStackProps, secretOf } from './region-stack.ts';

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

    const targets = readinessTargets(
      d,
      dr,
      this.region,
      specs.map((s) => s.spec),
    );
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
 * What the DR side should hold, for the readiness check: each primary backup location that replicates here (with a
 * sourceClusterId to report it by), and the source of each restore.
 */
function readinessTargets(
  d: DeploymentConfig,
  dr: DrRegionConfig,
  region: string,
  restores: readonly ParsedKafkaRestoreSpec[],
): ReadinessTarget[] {
  const prefix = replicationPrefix(d);
  const targets = new Map<string, ReadinessTarget>();
  const add = (sourceClusterId: string, location: string) =>
    targets.set(`${sourceClusterId} ${location}`, {
      sourceClusterId,
      bucket: dr.bucketName,
      region,
      prefix: location,
    });
  for (const b of d.primary.backups) {
    const spec = parseSpec(KafkaBackupSpec, b.spec, `primary.backups ${b.name}`);
    const location = spec.storage.s3.prefix.replace(/^\/+|\/+$/g, '');
    if (spec.sourceClusterId !== undefined && `${location}/`.startsWith(prefix))
      add(spec.sourceClusterId, location);
  }
  for (const spec of restores) {
    const cluster = spec.offsetReset?.sourceCluster;
    if (cluster !== undefined) add(cluster, spec.storage.s3.prefix.replace(/^\/+|\/+$/g, ''));
  }
  return [...targets.values()];
}
