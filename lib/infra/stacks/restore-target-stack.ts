import { CfnOutput } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { KafkaRestore } from '../constructs/kafka-restore.ts';
import type { RestoreTargetConfig } from '../deployment-config.ts';
import { acknowledgeJustified, WORKFLOW_JUSTIFICATIONS } from '../nag.ts';
import { KafkaRestoreSpec, parseSpec, SpecError } from '../specs.ts';
import { FailoverWorkflow } from '../workflows/index.ts';
import { bucketKeyAlias, RegionStack, type RegionStackProps, secretOf } from './region-stack.ts';

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
