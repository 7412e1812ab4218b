import type { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { ClientSideEncryptionGrants } from '../constructs/client-side-keys.ts';

/**
 * What the workflows' functions and Fargate task take (WorkflowFunctions); the workflow constructs take these
 * plus what only a state machine needs (`WorkflowProps` in workflows.ts). The CDK app (lib/infra, bin/cdk-app.ts)
 * builds the bucket, VPC and secret and hands them in; everything else has a default.
 */
export interface WorkflowFunctionsProps {
  /** The backup location (the config's storage.bucket). Read and written by the functions and the Fargate task. */
  bucket: s3.IBucket;
  /** Where the functions and Fargate tasks run: they need to reach the Kafka brokers and S3. */
  vpc: ec2.IVpc;
  /** Default: the VPC's private subnets with egress. */
  vpcSubnets?: ec2.SubnetSelection;
  securityGroups: ec2.ISecurityGroup[];
  /**
   * JSON secret merged into the config's Kafka `security` section at every step, e.g.
   * `{"sasl_username": "backup-service", "sasl_password": "..."}`. Any key of the security section is allowed.
   */
  kafkaSecret?: secretsmanager.ISecret;
  /** The ECS cluster for the Fargate path; created in `vpc` if absent. */
  cluster?: ecs.ICluster;
  /** Timeout of the worker functions; they stop safely before it and continue in a new invocation. Default 15 minutes. */
  lambdaTimeout?: Duration;
  /** The Fargate task's image. Default: built from deploy/container/Dockerfile at deploy time. */
  containerImage?: ecs.ContainerImage;
  /**
   * Work items (partitions) with more offsets to read (backup) or more stored bytes to restore than this run on
   * Fargate instead of Lambda. Defaults: 20 million offsets, 8 GiB. The execution input can override both.
   */
  fargateThresholds?: { backupOffsets?: number; restoreBytes?: number };
  /** How long one Fargate work item (a whole large partition) may run. Default 24 hours. */
  fargateTimeout?: Duration;
  /** Memory of the worker functions, MiB. Default 2048. */
  memorySize?: number;
  /**
   * What an execution input may steer the steps to (lib/workflow/policy.ts). The bucket is always the only one
   * allowed, and storage.endpoint is refused unless listed here.
   */
  access?: WorkflowAccess;
  /** The functions and ECS services the scale hooks may touch. Default none: the hook states fail. */
  hooks?: WorkflowHooks;
  /** Log execution data (inputs, states) into the state machine's log group. Default false. */
  logExecutionData?: boolean;
  /** The KMS key of the log groups (state machines and functions). Default: one created per workflow construct. */
  logKey?: kms.IKey;
  /**
   * Restore-only use (a restore target's stack): the functions read backups and write only restore state, never
   * anything under backups/.
   */
  restoreOnly?: boolean;
  /**
   * Client-side encryption of everything the steps store (the deployment's clientSideEncryption): the steps get
   * the keys through the workflow policy, and kms:Decrypt (readers) or kms:GenerateDataKey/Encrypt (writers).
   */
  clientSideEncryption?: ClientSideEncryptionGrants;
}

export interface WorkflowAccess {
  /** Each entry one Kafka cluster's bootstrap servers. Default: any (not checked); the stacks always set it. */
  kafkaClusters?: readonly (readonly string[])[];
  /** storage.endpoint values allowed. Default none. */
  storageEndpoints?: readonly string[];
  /** The only values `${VAR}` resolves from in a step. */
  configVariables?: Readonly<Record<string, string>>;
}

export interface WorkflowHooks {
  /** Function ARNs or names (this region and account). */
  lambdaFunctions?: readonly string[];
  ecsServices?: readonly { cluster: string; service: string }[];
}
