import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ReplicationDestination {
  readonly bucketName: string;
  readonly region: string;
  /** Alias of the destination bucket's KMS key when it uses SSE-KMS (replicas are encrypted with it). */
  readonly kmsKeyAlias?: string;
}

export interface BackupReplicationProps {
  readonly sourceBucketName: string;
  /** Alias of the source bucket's KMS key when it uses SSE-KMS (the role decrypts with it). */
  readonly sourceKmsKeyAlias?: string;
  readonly destinations: readonly ReplicationDestination[];
  /** Only keys under this prefix replicate (the guide: `us-west-2/`). */
  readonly prefix: string;
  /** Rule id of the first destination; with several, each id gets `-<region>`. */
  readonly ruleId: string;
  /** Priority of the first destination; the next ones count up (S3 wants distinct priorities). */
  readonly priority: number;
  readonly deleteMarkerReplication: boolean;
  /** The buckets have Object Lock: the replicas carry the source versions' retention, which the role reads. */
  readonly objectLock?: boolean;
}

export interface ReplicationRuleInfo {
  readonly ruleId: string;
  readonly destinationBucketName: string;
  readonly destinationRegion: string;
}

/**
 * The replication of replication-config.json: a role that S3 assumes, allowed exactly what replication of the
 * prefix needs (read the source's replication configuration and object versions under the prefix, write replicas
 * under the same prefix of each destination), and one rule per destination with S3 Replication Time Control
 * (15 minutes), replication metrics (15-minute event threshold) and delete-marker replication off, so that
 * deleting a backup on the primary (retention, or an attacker) never deletes the DR copy.
 *
 * Create it before the source bucket and pass `rules` and `role` to the bucket. Destinations are named, not
 * referenced: they live in other regions' stacks.
 */
export class BackupReplication extends Construct {
  readonly role: iam.Role;
  readonly rules: s3.ReplicationRule[];
  readonly ruleInfos: ReplicationRuleInfo[];

  constructor(scope: Construct, id: string, props: BackupReplicationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const partition = stack.partition;
    const bucketArn = (name: string) => `arn:${partition}:s3:::${name}`;
    const sourceArn = bucketArn(props.sourceBucketName);
    const prefix = props.prefix;

    this.role = new iam.Role(this, 'Role', {
      description: `S3 replication of ${props.sourceBucketName}/${prefix} to the DR buckets`,
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': sourceArn },
        },
      }),
    });

    const policy = new iam.Policy(this, 'Policy', {
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadSourceReplicationConfiguration',
          actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
          resources: [sourceArn],
        }),
        new iam.PolicyStatement({
          sid: 'ReadSourceObjectVersionsUnderPrefix',
          actions: [
            's3:GetObjectVersionForReplication',
            's3:GetObjectVersionAcl',
            's3:GetObjectVersionTagging',
            ...(props.objectLock ? ['s3:GetObjectRetention', 's3:GetObjectLegalHold'] : []),
          ],
          resources: [`${sourceArn}/${prefix}*`],
        }),
        new iam.PolicyStatement({
          sid: 'WriteReplicasUnderPrefix',
          actions: [
            's3:ReplicateObject',
            's3:ReplicateTags',
            ...(props.deleteMarkerReplication ? ['s3:ReplicateDelete'] : []),
          ],
          resources: props.destinations.map((d) => `${bucketArn(d.bucketName)}/${prefix}*`),
        }),
      ],
    });
    if (props.sourceKmsKeyAlias !== undefined) {
      policy.addStatements(
        kmsStatement(stack, 'DecryptSourceObjects', ['kms:Decrypt'], stack.region, props.sourceKmsKeyAlias, [
          sourceArn,
          `${sourceArn}/${prefix}*`,
        ]),
      );
    }
    for (const d of props.destinations) {
      if (d.kmsKeyAlias === undefined) continue;
      policy.addStatements(
        kmsStatement(
          stack,
          `EncryptReplicasIn${d.region.replaceAll('-', '')}`,
          ['kms:Encrypt', 'kms:GenerateDataKey'],
          d.region,
          d.kmsKeyAlias,
          [bucketArn(d.bucketName), `${bucketArn(d.bucketName)}/${prefix}*`],
        ),
      );
    }
    policy.attachToRole(this.role);
    // cdk-nag reports each wildcard resource as its own finding, with the partition written <AWS::Partition>.
    const nagArn = (name: string) => `arn:<AWS::Partition>:s3:::${name}`;
    const wildcards = [
      `${nagArn(props.sourceBucketName)}/${prefix}*`,
      ...props.destinations.map((d) => `${nagArn(d.bucketName)}/${prefix}*`),
      ...(props.sourceKmsKeyAlias !== undefined
        ? [`arn:<AWS::Partition>:kms:${stack.region}:${stack.account}:key/*`]
        : []),
      ...props.destinations
        .filter((d) => d.kmsKeyAlias !== undefined)
        .map((d) => `arn:<AWS::Partition>:kms:${d.region}:${stack.account}:key/*`),
    ];
    Validations.of(policy).acknowledge(
      ...[...new Set(wildcards)].map((resource) => ({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason: resource.includes(':kms:')
          ? 'The KMS key of a bucket in another region is not known to this stack: the statement is narrowed to it by ' +
            'kms:ResourceAliases, to use through S3 only (kms:ViaService) and for this bucket and prefix only (encryption context).'
          : 'Replication reads and writes every object version under the replicated prefix, and only under it: ' +
            'S3 object ARNs can only name a prefix with a trailing wildcard.',
      })),
    );

    const several = props.destinations.length > 1;
    this.ruleInfos = props.destinations.map((d) => ({
      ruleId: several ? `${props.ruleId}-${d.region}` : props.ruleId,
      destinationBucketName: d.bucketName,
      destinationRegion: d.region,
    }));
    this.rules = props.destinations.map((d, i) => ({
      id: this.ruleInfos[i]!.ruleId,
      priority: props.priority + i,
      destination: s3.Bucket.fromBucketAttributes(this, `Destination${i}`, {
        bucketArn: bucketArn(d.bucketName),
        bucketName: d.bucketName,
        region: d.region,
        account: stack.account,
      }),
      filter: { prefix },
      replicationTimeControl: s3.ReplicationTimeValue.FIFTEEN_MINUTES,
      metrics: s3.ReplicationTimeValue.FIFTEEN_MINUTES,
      deleteMarkerReplication: props.deleteMarkerReplication,
      ...(props.sourceKmsKeyAlias !== undefined && { sseKmsEncryptedObjects: true }),
    }));
  }

  /**
   * Replicas of KMS-encrypted objects are encrypted with the destination's key, named by alias ARN (accepted by
   * S3) since the key lives in another stack. Call once the bucket exists.
   */
  applyDestinationKeys(bucket: s3.Bucket, destinations: readonly ReplicationDestination[]): void {
    const cfn = bucket.node.defaultChild as s3.CfnBucket;
    destinations.forEach((d, i) => {
      if (d.kmsKeyAlias === undefined) return;
      cfn.addPropertyOverride(
        `ReplicationConfiguration.Rules.${i}.Destination.EncryptionConfiguration.ReplicaKmsKeyID`,
        `arn:${Stack.of(this).partition}:kms:${d.region}:${Stack.of(this).account}:${d.kmsKeyAlias}`,
      );
    });
  }

  /** S3's ReplicationLatency for one rule (published in the source bucket's region). */
  static latencyMetric(sourceBucketName: string, rule: ReplicationRuleInfo): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/S3',
      metricName: 'ReplicationLatency',
      dimensionsMap: {
        SourceBucket: sourceBucketName,
        DestinationBucket: rule.destinationBucketName,
        RuleId: rule.ruleId,
      },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(1),
      label: `Replication latency to ${rule.destinationBucketName} (${rule.destinationRegion})`,
    });
  }
}

function kmsStatement(
  stack: Stack,
  sid: string,
  actions: string[],
  region: string,
  alias: string,
  encryptionContextArns: string[],
): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions,
    resources: [`arn:${stack.partition}:kms:${region}:${stack.account}:key/*`],
    conditions: {
      'ForAnyValue:StringEquals': { 'kms:ResourceAliases': alias },
      StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` },
      // With S3 Bucket Keys the context is the bucket's ARN, without them the object's.
      StringLike: { 'kms:EncryptionContext:aws:s3:arn': encryptionContextArns },
    },
  });
}
