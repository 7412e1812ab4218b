import { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { STEPFUNCTIONS_USE_DISTRIBUTED_MAP_RESULT_WRITER_V2 } from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import type { ErrorName } from '../../errors.ts';
import { DEFAULT_MAP_CONCURRENCY } from '../../plan/runners.ts';
import { WorkflowFunctions } from './functions.ts';
import type { WorkflowFunctionsProps } from './props.ts';
import {
  type BuildContext,
  backupFailure,
  backupSegment,
  defaults,
  failTail,
  notify,
  restoreFailure,
  restoreSegment,
  scaleHook,
  invokeStep as stepTask,
} from './states.ts';

/** What every workflow construct takes: what its functions take, plus what only the state machine needs. */
export interface WorkflowProps extends WorkflowFunctionsProps {
  /** Failover and failback publish their report here; backup publishes failures here when given. */
  notificationTopic?: sns.ITopic;
  /** Distributed Map concurrency: partitions worked on at once. Default 10. */
  maxConcurrency?: number;
  /**
   * Share one set of functions (and the Fargate task definition) between workflows of the same stack.
   * Default: each workflow creates its own.
   */
  functions?: WorkflowFunctions;
}

/**
 * A workflow's state machine: standard, traced, logging every event into a KMS-encrypted log group, and execution
 * data (inputs, outputs: configs, hook names) only when the deployment asks; allowed to publish to an encrypted
 * notification topic.
 */
export function workflowStateMachine(
  scope: Construct,
  definition: sfn.IChainable,
  o: { logKey: kms.IKey; logExecutionData?: boolean | undefined; notificationTopic?: sns.ITopic | undefined },
): sfn.StateMachine {
  const stateMachine = new sfn.StateMachine(scope, 'StateMachine', {
    definitionBody: sfn.DefinitionBody.fromChainable(definition),
    stateMachineType: sfn.StateMachineType.STANDARD,
    tracingEnabled: true,
    logs: {
      destination: new logs.LogGroup(scope, 'ExecutionLogs', {
        retention: logs.RetentionDays.THREE_MONTHS,
        removalPolicy: RemovalPolicy.RETAIN,
        encryptionKey: o.logKey,
      }),
      level: sfn.LogLevel.ALL,
      includeExecutionData: o.logExecutionData ?? false,
    },
  });
  const topicKey = o.notificationTopic?.masterKey;
  if (topicKey) topicKey.grant(stateMachine, 'kms:Decrypt', 'kms:GenerateDataKey*');
  return stateMachine;
}

abstract class WorkflowBase extends Construct {
  /** The state machine; start it with the input documented in README ("Serverless workflows"). */
  readonly stateMachine: sfn.StateMachine;
  /** The functions and the Fargate task definition it runs (shared when `props.functions` was given). */
  readonly functions: WorkflowFunctions;

  constructor(
    scope: Construct,
    id: string,
    props: WorkflowProps,
    workflow: BuildContext['workflow'],
    build: (b: BuildContext) => sfn.IChainable,
  ) {
    super(scope, id);
    // The Distributed Maps' ResultWriter (results in the bucket) is CDK's ResultWriterV2, rendered only under this
    // feature flag: set here, for this construct's tree, so the workflows do not depend on the app's cdk.json.
    this.node.setContext(STEPFUNCTIONS_USE_DISTRIBUTED_MAP_RESULT_WRITER_V2, true);
    this.functions = props.functions ?? new WorkflowFunctions(this, 'Functions', props);
    const b: BuildContext = {
      scope: this,
      fns: this.functions,
      bucket: props.bucket,
      maxConcurrency: props.maxConcurrency ?? DEFAULT_MAP_CONCURRENCY,
      notificationTopic: props.notificationTopic,
      workflow,
      hooks: props.hooks,
    };
    this.stateMachine = workflowStateMachine(this, build(b), {
      logKey: props.logKey ?? this.functions.logKey,
      logExecutionData: props.logExecutionData,
      notificationTopic: props.notificationTopic,
    });
  }
}

/**
 * The scheduled backup. Input: `{ "config": <backup config as JSON, the seed's fields>, "schedule": "hourly" }`
 * (schedule optional, for logs). Plan -> Distributed Map over partitions (a Lambda worker looping on its
 * continuation, or a Fargate task for large partitions) -> Finalize; any failure emits the failure metric, releases
 * the lease and fails the execution.
 */
export class BackupWorkflow extends WorkflowBase {
  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id, props, 'backup', (b) => {
      const onFailure = backupFailure(b, failTail(b));
      const backup = backupSegment(b, { configPath: '$.config', onFailure });
      backup.next(new sfn.Succeed(b.scope, 'BackupSucceeded', { outputPath: '$.result' }));
      return defaults(b, { schedule: 'manual', options: {} }).next(backup.start);
    });
  }
}

/**
 * Failover in the DR region, the seed's failover.sh as a state machine. Input:
 * `{ "config": <restore config; storage = this region's bucket>, "validate": "deep"|"shallow"|"none",
 *    "hooks": { "scale_down": {...}, "scale_up": {...} } }`.
 * FindBackup (newest complete and fully replicated) -> ValidateBackup -> ScaleDown -> PrepareRestore -> Map restore
 * -> MapOffsets -> ResetConsumerGroups -> VerifyRestore -> ScaleUp -> Notify. Output: the restore report.
 */
export class FailoverWorkflow extends WorkflowBase {
  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id, props, 'failover', (b) => {
      const onFailure = restoreFailure(b, failTail(b));
      const findBackup = stepTask(b, 'FindBackup', 'find-backup', {
        comment: 'The newest backup that is complete and whose every segment is in this bucket',
        payload: { config: sfn.JsonPath.objectAt('$.config'), options: sfn.JsonPath.objectAt('$.options') },
        resultPath: '$.backup',
      });
      const validate = stepTask(b, 'ValidateBackup', 'validate-backup', {
        comment: 'kafka-backup validate (--deep reads and checksums every segment)',
        payload: {
          config: sfn.JsonPath.objectAt('$.config'),
          backup_id: sfn.JsonPath.stringAt('$.backup.backup_id'),
          validate: sfn.JsonPath.stringAt('$.validate'),
        },
        resultPath: '$.validation',
      });
      const scaleDown = scaleHook(b, 'ScaleDown', '$.hooks.scale_down');
      const scaleUp = scaleHook(b, 'ScaleUp', '$.hooks.scale_up');
      const restore = restoreSegment(b, {
        configPath: '$.config',
        backupIdPath: '$.backup.backup_id',
        onFailure,
      });
      for (const s of [findBackup, validate])
        s.addCatch(onFailure, { errors: ['States.ALL'], resultPath: '$.error' });
      findBackup.next(
        new sfn.Choice(b.scope, 'Validate?')
          .when(sfn.Condition.stringEquals('$.validate', 'none'), scaleDown.start)
          .otherwise(validate),
      );
      validate.next(scaleDown.start);
      scaleDown.next(restore.start);
      restore.next(scaleUp.start);
      scaleUp.next(
        notify(b, 'NotifySuccess', 'succeeded', reportSummary()).next(
          new sfn.Succeed(b.scope, 'FailoverSucceeded', { outputPath: '$.report' }),
        ),
      );
      restore.onNotOk(notVerified(b));
      return defaults(b, { validate: 'deep', hooks: {}, options: {} }).next(findBackup);
    });
  }
}

/**
 * Failback, the seed's failback.sh: back up the DR cluster (the backup steps), check the primary answers, restore
 * only the delta (records newer than `restore_config.restore.start_time`) into it, reset consumer groups by that
 * timestamp, notify. Input: `{ "backup_config": <backup config of the DR cluster>, "restore_config": <restore
 * config into the primary, same storage, restore.start_time = when failover happened>, "hooks": {...} }`.
 */
export class FailbackWorkflow extends WorkflowBase {
  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id, props, 'failback', (b) => {
      const tail = failTail(b);
      const onBackupFailure = backupFailure(b, tail);
      const onRestoreFailure = restoreFailure(b, tail);
      const scaleDown = scaleHook(b, 'ScaleDown', '$.hooks.scale_down');
      const scaleUp = scaleHook(b, 'ScaleUp', '$.hooks.scale_up');
      const backup = backupSegment(b, { configPath: '$.backup_config', onFailure: onBackupFailure });
      const check = stepTask(b, 'CheckPrimary', 'check-cluster', {
        comment: 'The primary cluster answers (kafka-broker-api-versions in the seed)',
        payload: { config: sfn.JsonPath.objectAt('$.restore_config') },
        resultPath: '$.primary',
      });
      check.addCatch(onRestoreFailure, { errors: ['States.ALL'], resultPath: '$.error' });
      const restore = restoreSegment(b, {
        configPath: '$.restore_config',
        backupIdPath: '$.result.backup_id',
        onFailure: onRestoreFailure,
        // The primary still holds everything before the failover: write after it, move groups by time.
        restoreDefaults: { on_existing_data: 'append' },
        restoreOverrides: { consumer_group_strategy: 'timestamp', reset_consumer_offsets: true },
      });
      scaleDown.next(backup.start);
      backup.next(check);
      check.next(restore.start);
      restore.next(scaleUp.start);
      scaleUp.next(
        notify(b, 'NotifySuccess', 'succeeded', reportSummary()).next(
          new sfn.Succeed(b.scope, 'FailbackSucceeded', { outputPath: '$.report' }),
        ),
      );
      restore.onNotOk(notVerified(b));
      return defaults(b, { schedule: 'failback', hooks: {}, options: {} }).next(scaleDown.start);
    });
  }
}

function reportSummary(): Record<string, unknown> {
  return {
    backup_id: sfn.JsonPath.stringAt('$.report.backup_id'),
    restore_id: sfn.JsonPath.stringAt('$.report.restore_id'),
    target_cluster_id: sfn.JsonPath.stringAt('$.report.target_cluster_id'),
    duration_ms: sfn.JsonPath.numberAt('$.report.duration_ms'),
    consumer_groups: sfn.JsonPath.objectAt('$.groups.summary'),
  };
}

/** Verification found a partition that does not hold what was restored: notify and fail, apps stay down. */
function notVerified(b: BuildContext): sfn.IChainable {
  const fail = new sfn.Fail(b.scope, 'RestoreNotVerified', {
    error: 'RestoreVerificationFailed' satisfies ErrorName,
    cause: 'a restored partition does not hold the expected records, or a consumer group could not be reset',
  });
  return notify(b, 'NotifyNotVerified', 'failed', {
    backup_id: sfn.JsonPath.stringAt('$.report.backup_id'),
    restore_id: sfn.JsonPath.stringAt('$.report.restore_id'),
    error: 'RestoreVerificationFailed' satisfies ErrorName,
  }).next(fail);
}
