import { CfnOutput } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ReadinessTarget } from '../../dr/readiness-targets.ts';
import { BackupBucket } from '../constructs/backup-bucket.ts';
import { DrReadinessCheck } from '../constructs/dr-readiness.ts';
import { KafkaRestore } from '../constructs/kafka-restore.ts';
import { DrillAlarms, DrReadinessAlarms } from '../constructs/monitoring.ts';
import { toEventBridgeCron } from '../cron.ts';
import { type DeploymentConfig, type DrRegionConfig, replicationPrefix } from '../deployment-config.ts';
import { acknowledgeJustified, WORKFLOW_JUSTIFICATIONS } from '../nag.ts';
import {
  backupConfigFromSpec,
  KafkaBackupSpec,
  KafkaRestoreSpec,
  type ParsedKafkaRestoreSpec,
  parseSpec,
  SpecError,
} from '../specs.ts';
import {
  type DrillExecutionDefaults,
  DrillWorkflow,
  FailbackWorkflow,
  FailoverWorkflow,
} from '../workflows/index.ts';
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
  /** Reports kafka_backup_dr_ready (and the days since a drill passed); absent with nothing to report. */
  readonly readiness?: DrReadinessCheck;
  /** The scheduled DR drill, when the deployment file gives the region a `drill`. */
  readonly drill?: DrillWorkflow;

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

    const drill = dr.drill ? this.drillOf(d, dr, dr.drill, workflowProps) : undefined;
    this.drill = drill?.workflow;

    const targets = readinessTargets(
      d,
      dr,
      this.region,
      specs.map((s) => s.spec),
    );
    if (targets.length > 0 || drill) {
      this.readiness = new DrReadinessCheck(this, 'DrReadiness', {
        bucket: this.bucket.bucket,
        logKey: this.logKey,
        targets,
        scheduleGroup: this.scheduleGroup,
        ...(this.clientSideKeys && { clientSideEncryption: this.clientSideKeys }),
        ...(drill && {
          drill: {
            sourceClusterId: drill.sourceClusterId,
            bucketName: dr.bucketName,
            prefix: drill.prefix,
            evidenceKey: drill.workflow.evidenceKey,
          },
        }),
      });
    }
    if (drill) {
      const drillAlarms = new DrillAlarms(this, 'DrillAlarms', {
        topic: this.alarmTopic,
        sourceClusterId: drill.sourceClusterId,
        maxDaysWithoutPass: dr.drill!.maxDaysWithoutPass,
      });
      this.alarms.push(...drillAlarms.alarms);
      this.addWorkflowAlarm('KafkaDrillWorkflowFailed', drill.workflow.stateMachine, 'drill');
      new CfnOutput(this, 'DrillStateMachineArn', { value: drill.workflow.stateMachine.stateMachineArn });
      new CfnOutput(this, 'EvidenceKeyArn', {
        value: drill.workflow.evidenceKey.keyArn,
        description: 'kafka-backup evidence verify <id> --path s3://… --evidence-kms-key-id <this>',
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

  /**
   * The region's drill: the restore it names gives the DR cluster (target) and the location (storage) whose newest
   * backup is restored and where the evidence goes; a synthetic drill's source cluster is a primary backup's.
   */
  private drillOf(
    d: DeploymentConfig,
    dr: DrRegionConfig,
    config: NonNullable<DrRegionConfig['drill']>,
    workflowProps: ReturnType<RegionStack['workflowProps']>,
  ) {
    const restore = this.restores.find((r) => r.name === (config.restore ?? dr.restores[0]?.name));
    if (!restore)
      throw new SpecError(`dr ${dr.region} drill: no restore to drill with: add one to dr[].restores`);
    const sourceClusterId = config.sourceClusterId ?? restore.spec.offsetReset?.sourceCluster;
    if (sourceClusterId === undefined)
      throw new SpecError(
        `dr ${dr.region} drill: sourceClusterId is required (restore ${restore.name} names no offsetReset.sourceCluster): whose backups the drill proves`,
      );
    const synthetic = config.kind === 'synthetic' ? config.synthetic : undefined;
    const backup = synthetic && d.primary.backups.find((b) => b.name === synthetic.backup);
    const input: DrillExecutionDefaults = {
      kind: config.kind,
      namespace: config.namespace,
      config: restore.config as Record<string, unknown>,
      ...(backup && {
        source_config: backupConfigFromSpec(
          backup.name,
          parseSpec(KafkaBackupSpec, backup.spec, `primary.backups ${backup.name}`),
        ) as Record<string, unknown>,
      }),
      ...(config.topics && { topics: { include: config.topics, exclude: config.excludeTopics } }),
      source_cluster_id: sourceClusterId,
      ...(synthetic && {
        synthetic: {
          records: synthetic.records,
          record_size: synthetic.recordSize,
          partitions: synthetic.partitions,
        },
      }),
    };
    const workflow = new DrillWorkflow(this, 'DrillWorkflow', {
      ...workflowProps,
      ...(this.clientSideKeys && { clientSideEncryption: this.clientSideKeys }),
      drill: input,
      schedule: {
        expression: toEventBridgeCron(config.schedule),
        timeZone: config.timeZone,
        group: this.scheduleGroup,
        groupName: d.namePrefix,
        description: `kafka-backup: the DR drill (${config.kind}), "${config.schedule}" (${config.timeZone})`,
      },
    });
    return { workflow, sourceClusterId, prefix: restore.spec.storage.s3.prefix.replace(/^\/+|\/+$/g, '') };
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
