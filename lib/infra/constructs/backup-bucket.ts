import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';

export type BucketEncryptionChoice = 'SSE-S3' | 'SSE-KMS';

export interface BackupBucketProps {
  /** Deterministic so that other regions' stacks can name it (replication destination, restore source). */
  readonly bucketName: string;
  /** SSE-S3 (default) or SSE-KMS with a customer managed key created here. */
  readonly encryption?: BucketEncryptionChoice;
  /** Alias of the key when SSE-KMS; deterministic so that the replication rule can name it from another region. */
  readonly keyAlias?: string;
  readonly noncurrentVersionExpiration?: Duration;
  readonly abortIncompleteMultipartUploadAfter?: Duration;
  readonly accessLogExpiration?: Duration;
  /** Replication configuration of a source bucket (see BackupReplication). */
  readonly replicationRules?: s3.ReplicationRule[];
  readonly replicationRole?: iam.IRole;
  /** S3 Object Lock with a default retention for every new object version. Default: off. */
  readonly objectLock?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days: number };
}

/**
 * A bucket for backups: versioned (replication needs it, and an overwritten or deleted object stays recoverable),
 * encrypted, never public, TLS only, with lifecycle rules for noncurrent versions and abandoned multipart uploads,
 * and server access logs into a companion bucket. Retained when the stack is deleted: it holds the backups.
 *
 * Current versions never expire by lifecycle: backups reuse segments of earlier backups, so only the engine's
 * retention (retention.backups) knows what may go.
 */
export class BackupBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  readonly encryptionKey?: kms.Key;

  constructor(scope: Construct, id: string, props: BackupBucketProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Access logs are delivered under a bucket policy, not the LogDeliveryWrite ACL (the buckets enforce
    // bucket-owner ownership, which disables ACLs), whatever the app's feature flags say.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      // S3 server access logs can only be delivered to an SSE-S3 bucket.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [
        {
          id: 'ExpireAccessLogs',
          expiration: props.accessLogExpiration ?? Duration.days(365),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogsBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the server access log bucket of the backup bucket; logging it into itself would log its own log deliveries without end.',
    });

    if (props.encryption === 'SSE-KMS') {
      this.encryptionKey = new kms.Key(this, 'Key', {
        description: `kafka-backup: encrypts the backups in ${props.bucketName} (${stack.region})`,
        enableKeyRotation: true,
        alias: props.keyAlias,
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }

    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      versioned: true,
      ...(this.encryptionKey
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: this.encryptionKey, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: `${props.bucketName}/`,
      lifecycleRules: [
        {
          id: 'ExpireNoncurrentVersions',
          noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(30),
          expiredObjectDeleteMarker: true,
        },
        {
          id: 'AbortIncompleteMultipartUploads',
          abortIncompleteMultipartUploadAfter: props.abortIncompleteMultipartUploadAfter ?? Duration.days(7),
        },
      ],
      replicationRules: props.replicationRules,
      replicationRole: props.replicationRole,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(props.objectLock && {
        objectLockEnabled: true,
        objectLockDefaultRetention:
          props.objectLock.mode === 'COMPLIANCE'
            ? s3.ObjectLockRetention.compliance(Duration.days(props.objectLock.days))
            : s3.ObjectLockRetention.governance(Duration.days(props.objectLock.days)),
      }),
    });
  }
}
