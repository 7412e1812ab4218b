import { Annotations, CfnOutput } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { BackupBucket } from '../constructs/backup-bucket.ts';
import { KafkaBackup } from '../constructs/kafka-backup.ts';
import { BackupAlarms, BackupDashboard, ReplicationAlarms } from '../constructs/monitoring.ts';
import { BackupReplication, type ReplicationDestination } from '../constructs/replication.ts';
import { objectLockDays, replicationPrefix } from '../deployment-config.ts';
import { acknowledgeJustified, WORKFLOW_JUSTIFICATIONS } from '../nag.ts';
import { KafkaBackupSpec, parseSpec } from '../specs.ts';
import { BackupWorkflow } from '../workflows/index.ts';
import {
  bucketKeyAlias,
  bucketProps,
  checkBackupStorage,
  RegionStack,
  type RegionStackProps,
  secretOf,
  sourceClusterIds,
} from './region-stack.ts';

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
