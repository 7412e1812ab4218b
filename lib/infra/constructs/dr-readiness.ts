import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, Stack } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import {
  DRILL_EVIDENCE_ENV,
  MAX_AGE_ENV,
  type ReadinessTarget,
  TARGETS_ENV,
} from '../../dr/readiness-targets.ts';
import { LOCATION_FOLDERS } from '../../storage/layout.ts';
import type { ClientSideEncryptionGrants } from './client-side-keys.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface DrReadinessCheckProps {
  /** The replica bucket. */
  readonly bucket: s3.IBucket;
  /** The KMS key of its log group (the stack's log key). Default: the log group is encrypted by CloudWatch Logs. */
  readonly logKey?: kms.IKey;
  /** Per source cluster, the prefixes of the bucket holding its backups. */
  readonly targets: readonly ReadinessTarget[];
  /** Older than this, the newest backup does not make DR ready (KafkaBackupLag's 2 hours). */
  readonly maxAge?: Duration;
  readonly scheduleGroup?: scheduler.IScheduleGroup;
  /** How often to check. Default 5 minutes. */
  readonly interval?: Duration;
  /** The deployment's client-side encryption: the function decrypts the manifests it reads (kms:Decrypt only). */
  readonly clientSideEncryption?: ClientSideEncryptionGrants;
  /**
   * The region's drill: where its evidence is (a prefix of the bucket) and the key it is signed with. The check
   * then also reports kafka_backup_days_since_drill_passed (reads evidence/, kms:GetPublicKey on that key).
   */
  readonly drill?: {
    readonly sourceClusterId: string;
    /** The bucket's name as text (targets name it so too). */
    readonly bucketName: string;
    readonly prefix: string;
    readonly evidenceKey: kms.IKey;
  };
}

/**
 * Emits kafka_backup_dr_ready for the DRNotReady alarm: a small function, on a schedule, that reads the newest
 * complete backup manifest of each source cluster in the replica bucket (read-only, manifests only), and with a
 * drill, kafka_backup_days_since_drill_passed for the NoDrillPassed alarm (the newest passing, verified evidence).
 */
export class DrReadinessCheck extends Construct {
  readonly function: NodejsFunction;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: DrReadinessCheckProps) {
    super(scope, id);
    this.function = new NodejsFunction(this, 'Function', {
      description:
        'kafka-backup: reports kafka_backup_dr_ready from the newest backup in the replica bucket, and the days since the last passing drill',
      entry: join(REPO_ROOT, 'functions', 'dr-readiness.ts'),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(2),
      // The same middleware as the workflow steps (functions/middleware.ts): Powertools Logger and Tracer.
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup: new logs.LogGroup(this, 'Logs', {
        retention: logs.RetentionDays.ONE_MONTH,
        ...(props.logKey ? { encryptionKey: props.logKey } : {}),
      }),
      environment: {
        [TARGETS_ENV]: Stack.of(scope).toJsonString(
          props.targets.map((t) =>
            props.clientSideEncryption
              ? { ...t, encryption: { kms_key_id: props.clientSideEncryption.policy.kms_key_id } }
              : t,
          ),
        ),
        [MAX_AGE_ENV]: String((props.maxAge ?? Duration.hours(2)).toSeconds()),
        ...(props.drill
          ? {
              [DRILL_EVIDENCE_ENV]: Stack.of(this).toJsonString({
                sourceClusterId: props.drill.sourceClusterId,
                bucket: props.drill.bucketName,
                region: Stack.of(this).region,
                prefix: props.drill.prefix,
                keyArn: props.drill.evidenceKey.keyArn,
                // The drill's evidence is stored as everything else in the location: encrypted with it.
                ...(props.clientSideEncryption
                  ? { encryption: { kms_key_id: props.clientSideEncryption.policy.kms_key_id } }
                  : {}),
              }),
            }
          : {}),
        POWERTOOLS_SERVICE_NAME: 'kafka-backup',
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        platform: 'node',
        mainFields: ['module', 'main'],
        banner:
          "import { createRequire as __kbCreateRequire } from 'node:module'; const require = __kbCreateRequire(import.meta.url);",
        externalModules: [],
        forceDockerBundling: false,
      },
    });
    for (const prefix of new Set(props.targets.map((t) => t.prefix))) {
      props.bucket.grantRead(this.function, `${prefix}/backups/*`);
    }
    props.clientSideEncryption?.grant(this.function, false);
    if (props.drill) {
      const at = props.drill.prefix ? `${props.drill.prefix}/` : '';
      props.bucket.grantRead(this.function, `${at}${LOCATION_FOLDERS.evidence}*`);
      props.drill.evidenceKey.grant(this.function, 'kms:GetPublicKey');
    }
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      scheduleName: 'dr-readiness',
      scheduleGroup: props.scheduleGroup,
      description: 'kafka-backup: check DR readiness (kafka_backup_dr_ready)',
      schedule: scheduler.ScheduleExpression.rate(props.interval ?? Duration.minutes(5)),
      target: new targets.LambdaInvoke(this.function, { retryAttempts: 0, maxEventAge: Duration.minutes(5) }),
    });
  }
}
