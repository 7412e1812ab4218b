import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { type ErrorName, RETRIABLE_ERROR_NAMES } from '../../errors.ts';
import { STEP_ENV, type StepName } from '../../workflow/names.ts';
import type { StepFunctionSet, WorkflowFunctions } from './functions.ts';
import { storedMapIo } from './map-io.ts';
import type { WorkflowHooks } from './props.ts';

/**
 * Building blocks of the three state machines. JSONPath only (aws-local-stepfunctions runs these definitions in
 * the tests). State names are stable: the tests bind each Task state by name to the real step function.
 *
 * Data flow: every Lambda step is invoked with "payloadResponseOnly" (the function ARN as the resource), so a
 * step's return value is its state result, and a failed step's error name (lib/errors.ts) is what Retry/Catch see.
 */

/**
 * The Lambda service's own errors: the invocation failed before or around our code (throttled, service hiccup, a
 * worker that ran into its Lambda timeout anyway, a hung invocation past taskTimeout). Always worth retrying.
 * (`retryOnServiceExceptions` adds CDK's retry of Lambda.ServiceException, Lambda.AWSLambdaException,
 * Lambda.SdkClientException and Lambda.ClientExecutionTimeoutException besides.)
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.TooManyRequestsException',
  'Sandbox.Timedout',
  'States.Timeout',
];

/**
 * What a Lambda step retries: the retriable names of the error table (lib/errors.ts; e.g. KafkaTransientError,
 * never KafkaAccessError: a wrong password is not retried) plus the Lambda service errors.
 */
export const TRANSIENT_ERRORS: readonly string[] = [...RETRIABLE_ERROR_NAMES, ...LAMBDA_SERVICE_ERRORS];

export interface BuildContext {
  scope: Construct;
  fns: WorkflowFunctions;
  /** The backup bucket: the Distributed Maps read their items from it and write their results to it. */
  bucket: s3.IBucket;
  maxConcurrency: number;
  notificationTopic: sns.ITopic | undefined;
  workflow: 'backup' | 'failover' | 'failback' | 'drill';
  /** The functions and services the scale hooks may touch (the state machine's role may touch nothing else). */
  hooks: WorkflowHooks | undefined;
}

/** What notify and failTail need: where the states go, the topic, which workflow. */
export type NotifyContext = Pick<BuildContext, 'scope' | 'notificationTopic' | 'workflow'>;

export function invokeStep<N extends StepName>(
  b: { scope: Construct; fns: StepFunctionSet<N> },
  id: string,
  step: N,
  opts: {
    payload: Record<string, unknown>;
    resultPath: string | null;
    comment: string;
    retryTransient?: boolean;
  },
): tasks.LambdaInvoke {
  const task = new tasks.LambdaInvoke(b.scope, id, {
    lambdaFunction: b.fns.fn(step),
    payloadResponseOnly: true,
    payload: sfn.TaskInput.fromObject(opts.payload),
    resultPath: opts.resultPath === null ? sfn.JsonPath.DISCARD : opts.resultPath,
    comment: opts.comment,
    retryOnServiceExceptions: true,
    // A little longer than the function may run: a hung invocation ends as States.Timeout, retried.
    taskTimeout: sfn.Timeout.duration(b.fns.lambdaTimeout.plus(Duration.minutes(1))),
  });
  if (opts.retryTransient ?? true) {
    task.addRetry({
      errors: [...TRANSIENT_ERRORS],
      maxAttempts: 3,
      interval: Duration.seconds(10),
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
  }
  return task;
}

/**
 * Runs a step with the CLI (`kafka-backup step <name>`) in the Fargate task, to the end (no deadline). The event is
 * the Map item (a few pointers, never data: container overrides are capped at 8 KiB) in an environment variable.
 */
function fargateStep(
  b: BuildContext,
  id: string,
  step: StepName,
  comment: string,
  onSuccess: sfn.IChainable,
): sfn.IChainable {
  const run = new tasks.EcsRunTask(b.scope, id, {
    comment,
    integrationPattern: sfn.IntegrationPattern.RUN_JOB,
    cluster: b.fns.cluster,
    taskDefinition: b.fns.taskDefinition,
    launchTarget: new tasks.EcsFargateLaunchTarget({ platformVersion: ecs.FargatePlatformVersion.LATEST }),
    subnets: b.fns.vpcSubnets,
    securityGroups: b.fns.securityGroups,
    assignPublicIp: false,
    taskTimeout: sfn.Timeout.duration(b.fns.fargateTimeout),
    containerOverrides: [
      {
        containerDefinition: b.fns.container,
        command: ['step', step],
        environment: [{ name: STEP_ENV.event, value: sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$')) }],
      },
    ],
    // Containers is always in a stopped task's description; its ExitCode is not (a container that never started).
    // A missing path in a ResultSelector or Choice is a States.Runtime error, which no Catch sees: test first.
    resultSelector: { containers: sfn.JsonPath.objectAt('$.Containers') },
    resultPath: '$.task',
  });
  run.addRetry({
    errors: ['ECS.AmazonECSException', 'AmazonECS.Unknown'],
    maxAttempts: 3,
    interval: Duration.seconds(30),
    backoffRate: 2,
  });
  const failed = new sfn.Fail(b.scope, `${id}Failed`, {
    error: 'FargateStepFailed' satisfies ErrorName,
    causePath: sfn.JsonPath.format(
      'the Fargate task did not exit with 0: {}',
      sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.task.containers')),
    ),
  });
  const exitCode = '$.task.containers[0].ExitCode';
  return run.next(
    new sfn.Choice(b.scope, `${id}Exited?`)
      .when(
        sfn.Condition.isPresent(exitCode),
        new sfn.Choice(b.scope, `${id}ExitCode`)
          .when(sfn.Condition.numberEquals(exitCode, 0), onSuccess)
          .otherwise(failed),
      )
      .otherwise(failed),
  );
}

/**
 * Applies defaults to the execution input (a shallow merge: a key given in the input wins), so later states can
 * read optional fields by path.
 */
export function defaults(b: Pick<BuildContext, 'scope'>, values: Record<string, unknown>): sfn.Pass {
  return new sfn.Pass(b.scope, 'ApplyDefaults', {
    comment: 'Optional input fields get their defaults',
    parameters: {
      input: sfn.JsonPath.jsonMerge(
        sfn.JsonPath.stringToJson(JSON.stringify(values)),
        sfn.JsonPath.objectAt('$'),
      ),
    },
    outputPath: '$.input',
  });
}

export interface Segment {
  start: sfn.State;
  /** Continue after the segment. */
  next(then: sfn.IChainable): void;
}

/**
 * Plan -> Map over work items (Lambda worker looping on its continuation, or Fargate for large items) -> Finalize.
 * Leaves `$.plan` and `$.result` (the finalized backup) in the state.
 */
export function backupSegment(
  b: BuildContext,
  opts: { configPath: string; onFailure: sfn.IChainable },
): Segment {
  const plan = invokeStep(b, 'PlanBackup', 'backup-plan', {
    comment:
      'Lease the location, resolve the topics, take the cut, the work items (offset ranges of partitions)',
    payload: {
      config: sfn.JsonPath.objectAt(opts.configPath),
      schedule: sfn.JsonPath.stringAt('$.schedule'),
      options: sfn.JsonPath.objectAt('$.options'),
    },
    resultPath: '$.plan',
  });

  const worker = invokeStep(b, 'BackupPartition', 'backup-partition', {
    comment: "Read the item's offset ranges to their ends or until shortly before the Lambda timeout",
    payload: {
      config_ref: sfn.JsonPath.objectAt('$.config_ref'),
      lease: sfn.JsonPath.objectAt('$.lease'),
      item: sfn.JsonPath.objectAt('$.item'),
    },
    resultPath: '$.progress',
  });
  const loop = new sfn.Choice(b.scope, 'PartitionBackedUp?')
    .when(sfn.Condition.booleanEquals('$.progress.done', true), new sfn.Succeed(b.scope, 'PartitionBackedUp'))
    .otherwise(worker);
  worker.next(loop);
  const route = new sfn.Choice(b.scope, 'BackupRunner')
    .when(
      sfn.Condition.stringEquals('$.item.runner', 'fargate'),
      fargateStep(
        b,
        'BackupPartitionOnFargate',
        'backup-partition',
        'An item too large for Lambda',
        new sfn.Succeed(b.scope, 'PartitionBackedUpOnFargate'),
      ),
    )
    .otherwise(worker);

  const map = new sfn.DistributedMap(b.scope, 'BackupPartitions', {
    comment: 'Every work item of the plan, in parallel: items read from and results written to the bucket',
    // The items and results stay in the bucket (backups/<id>/workflow/): 10,000 partitions do not fit the state.
    ...storedMapIo(b.bucket, 'backups', '$.plan.map'),
    itemSelector: {
      config_ref: sfn.JsonPath.objectAt('$.plan.config_ref'),
      lease: sfn.JsonPath.objectAt('$.plan.lease'),
      item: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
    },
    maxConcurrency: b.maxConcurrency,
    mapExecutionType: sfn.StateMachineType.STANDARD,
    toleratedFailurePercentage: 0,
    label: 'BackupPartitions',
    // FinalizeBackup reads every partition's progress from the location: it needs no results.
    resultPath: sfn.JsonPath.DISCARD,
  });
  map.itemProcessor(route);

  const finalize = invokeStep(b, 'FinalizeBackup', 'backup-finalize', {
    comment: 'Write the manifest, apply retention, emit the success metrics, release the lease',
    payload: {
      config_ref: sfn.JsonPath.objectAt('$.plan.config_ref'),
      lease: sfn.JsonPath.objectAt('$.plan.lease'),
    },
    resultPath: '$.result',
  });
  for (const s of [plan, map, finalize])
    s.addCatch(opts.onFailure, { errors: ['States.ALL'], resultPath: '$.error' });
  plan.next(map).next(finalize);
  return { start: plan, next: (then) => finalize.next(then) };
}

/** Records a backup failure (the failure metric, the lease released), notifies, and fails the execution. */
export function backupFailure(b: BuildContext, fail: sfn.IChainable): sfn.IChainable {
  const record = invokeStep(b, 'RecordBackupFailure', 'backup-failed', {
    comment: 'Emit kafka_backup_backups_total{outcome="failure"} and release the lease',
    payload: { state: sfn.JsonPath.objectAt('$') },
    resultPath: null,
    retryTransient: false,
  });
  record.addCatch(fail, { errors: ['States.ALL'], resultPath: '$.record_error' });
  return record.next(fail);
}

export function restoreFailure(b: BuildContext, fail: sfn.IChainable): sfn.IChainable {
  const record = invokeStep(b, 'RecordRestoreFailure', 'restore-failed', {
    comment: 'Emit kafka_backup_restores_total{outcome="failure"} and release the lease of the restore',
    payload: { state: sfn.JsonPath.objectAt('$') },
    resultPath: null,
    retryTransient: false,
  });
  record.addCatch(fail, { errors: ['States.ALL'], resultPath: '$.record_error' });
  return record.next(fail);
}

/** Publishes to the notification topic when there is one. */
export function notify(
  b: NotifyContext,
  id: string,
  outcome: 'succeeded' | 'failed',
  fields: Record<string, unknown>,
): sfn.IChainable & sfn.INextable {
  if (!b.notificationTopic) return new sfn.Pass(b.scope, id, { comment: 'No notification topic configured' });
  const task = new tasks.SnsPublish(b.scope, id, {
    topic: b.notificationTopic,
    subject: `kafka-backup ${b.workflow} ${outcome}`,
    message: sfn.TaskInput.fromObject({
      workflow: b.workflow,
      outcome,
      execution: sfn.JsonPath.stringAt('$$.Execution.Id'),
      ...fields,
    }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  return task;
}

/** The failure tail: notify (if a topic is configured), then fail with the caught error. */
export function failTail(b: NotifyContext): sfn.IChainable {
  const fail = new sfn.Fail(b.scope, 'Failed', {
    errorPath: '$.error.Error',
    causePath: '$.error.Cause',
  });
  const n = notify(b, 'NotifyFailure', 'failed', { error: sfn.JsonPath.objectAt('$.error') });
  n.next(fail);
  return n;
}

/**
 * A scale hook (seed failover step 3 and 6): set ECS services' desired counts through the ECS UpdateService SDK
 * integration, and/or invoke a user's Lambda function. Both optional, from the input under `path`:
 * `{ "ecs_services": [{ "cluster": "...", "service": "...", "desired_count": 3 }], "lambda_function": "arn" }`.
 * Scale-down sets every listed service to 0.
 */
export function scaleHook(b: BuildContext, name: 'ScaleDown' | 'ScaleUp', path: string): Segment {
  const stack = Stack.of(b.scope);
  const services = (b.hooks?.ecsServices ?? []).map((s) =>
    stack.formatArn({ service: 'ecs', resource: 'service', resourceName: `${s.cluster}/${s.service}` }),
  );
  const functions = (b.hooks?.lambdaFunctions ?? []).map((f) =>
    f.startsWith('arn:')
      ? f
      : stack.formatArn({
          service: 'lambda',
          resource: 'function',
          resourceName: f,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
  );
  const notAllowed = (id: string, what: string) =>
    new sfn.Fail(b.scope, id, {
      error: 'HookNotAllowed' satisfies ErrorName,
      cause: `the execution input names ${what}, and the deployment names none the hooks may use`,
    });
  const update =
    services.length > 0
      ? new tasks.CallAwsService(b.scope, `${name}EcsService`, {
          comment: `${name}: set the desired count of one ECS service`,
          service: 'ecs',
          action: 'updateService',
          parameters: {
            Cluster: sfn.JsonPath.stringAt('$.cluster'),
            Service: sfn.JsonPath.stringAt('$.service'),
            DesiredCount: name === 'ScaleDown' ? 0 : sfn.JsonPath.numberAt('$.desired_count'),
          },
          // Only the services the deployment names: an input naming another is refused by IAM.
          iamResources: services,
          resultPath: sfn.JsonPath.DISCARD,
        })
      : notAllowed(`${name}EcsService`, 'ECS services');
  const servicesMap = new sfn.Map(b.scope, `${name}EcsServices`, {
    comment: `${name}: every listed ECS service`,
    itemsPath: `${path}.ecs_services`,
    maxConcurrency: 5,
    resultPath: sfn.JsonPath.DISCARD,
  });
  servicesMap.itemProcessor(update);
  const done = new sfn.Pass(b.scope, `${name}Done`);
  const invoke =
    functions.length > 0
      ? new tasks.CallAwsService(b.scope, `${name}Function`, {
          comment: `${name}: invoke the user's hook function`,
          service: 'lambda',
          action: 'invoke',
          // The SDK call is `invoke`; the IAM action it needs is lambda:InvokeFunction (there is no lambda:invoke).
          iamAction: 'lambda:InvokeFunction',
          parameters: {
            FunctionName: sfn.JsonPath.stringAt(`${path}.lambda_function`),
            Payload: {
              phase: name === 'ScaleDown' ? 'scale_down' : 'scale_up',
              workflow: b.workflow,
              execution: sfn.JsonPath.stringAt('$$.Execution.Id'),
            },
          },
          // Only the functions the deployment names.
          iamResources: functions,
          resultPath: sfn.JsonPath.DISCARD,
        }).next(done)
      : notAllowed(`${name}Function`, 'a hook function');
  const fnChoice = new sfn.Choice(b.scope, `${name}HasFunction?`)
    .when(sfn.Condition.isPresent(`${path}.lambda_function`), invoke)
    .otherwise(done);
  servicesMap.next(fnChoice);
  const start = new sfn.Choice(b.scope, `${name}HasServices?`)
    .when(sfn.Condition.isPresent(`${path}.ecs_services`), servicesMap)
    .otherwise(fnChoice);
  return { start, next: (then) => done.next(then) };
}

/**
 * PrepareRestore (plan, create topics) -> Map restore per partition with continuations -> MapOffsets (the offset
 * mapping: where each group resumes) -> ResetConsumerGroups -> VerifyRestore. Leaves the report in `$.report`;
 * `next` continues when the report is ok, `onNotOk` otherwise.
 */
export function restoreSegment(
  b: BuildContext,
  opts: {
    configPath: string;
    backupIdPath: string;
    onFailure: sfn.IChainable;
    /** Merged under / over the config's `restore` section. */
    restoreDefaults?: Record<string, unknown>;
    restoreOverrides?: Record<string, unknown>;
  },
): Segment & { onNotOk(then: sfn.IChainable): void } {
  const prepare = invokeStep(b, 'PrepareRestore', 'restore-prepare', {
    comment:
      'Lease the restore, plan it, create the missing topics, small target partitions packed into work items',
    payload: {
      config: sfn.JsonPath.objectAt(opts.configPath),
      backup_id: sfn.JsonPath.stringAt(opts.backupIdPath),
      restore_defaults: opts.restoreDefaults ?? {},
      restore_overrides: opts.restoreOverrides ?? {},
      options: sfn.JsonPath.objectAt('$.options'),
    },
    resultPath: '$.prepared',
  });

  const worker = invokeStep(b, 'RestorePartition', 'restore-partition', {
    comment: "Write the item's target partitions until done or until shortly before the Lambda timeout",
    payload: {
      config_ref: sfn.JsonPath.objectAt('$.config_ref'),
      job: sfn.JsonPath.objectAt('$.job'),
      item: sfn.JsonPath.objectAt('$.item'),
      progress: sfn.JsonPath.objectAt('$.progress'),
    },
    resultPath: '$.progress',
  });
  // The item's result (the Map's ResultWriter stores it): what each of its partitions wrote.
  const restored = new sfn.Pass(b.scope, 'PartitionRestored', {
    parameters: { written: sfn.JsonPath.objectAt('$.progress.written') },
  });
  worker.next(
    new sfn.Choice(b.scope, 'PartitionRestored?')
      .when(sfn.Condition.booleanEquals('$.progress.done', true), restored)
      .otherwise(worker),
  );
  const onFargate = new sfn.Pass(b.scope, 'PartitionRestoredOnFargate', {
    comment: 'The Fargate task ran the item to its end; what it wrote is in the restore state',
    parameters: { written: [] },
  });
  const fargate = fargateStep(
    b,
    'RestorePartitionOnFargate',
    'restore-partition',
    'A target partition too large for Lambda',
    onFargate,
  );
  const route = new sfn.Choice(b.scope, 'RestoreRunner')
    .when(sfn.Condition.stringEquals('$.item.runner', 'fargate'), fargate)
    .otherwise(worker);

  const map = new sfn.DistributedMap(b.scope, 'RestorePartitions', {
    comment:
      'Every work item (target partitions, one writer each), in parallel: items read from and results written to the bucket',
    // restores/<id>/workflow/: the items, and what each partition wrote (read back by MapOffsets and VerifyRestore).
    ...storedMapIo(b.bucket, 'restores', '$.prepared.map'),
    itemSelector: {
      config_ref: sfn.JsonPath.objectAt('$.prepared.config_ref'),
      job: sfn.JsonPath.objectAt('$.prepared.job'),
      item: sfn.JsonPath.objectAt('$$.Map.Item.Value'),
      progress: { done: false, written: [] },
    },
    maxConcurrency: b.maxConcurrency,
    mapExecutionType: sfn.StateMachineType.STANDARD,
    toleratedFailurePercentage: 0,
    label: 'RestorePartitions',
    // {MapRunArn, ResultWriterDetails: {Bucket, Key}}: where the Map Run's manifest is.
    resultPath: '$.restored',
  });
  map.itemProcessor(route);

  const common = {
    config_ref: sfn.JsonPath.objectAt('$.prepared.config_ref'),
    job: sfn.JsonPath.objectAt('$.prepared.job'),
    results: sfn.JsonPath.objectAt('$.restored'),
  };
  const mapOffsets = invokeStep(b, 'MapOffsets', 'restore-map-offsets', {
    comment: 'Offset mapping: where each consumer group resumes on the target',
    payload: { ...common, reset_offsets: true },
    resultPath: '$.offsets',
  });
  const reset = invokeStep(b, 'ResetConsumerGroups', 'restore-reset-groups', {
    comment: 'Commit the mapped offsets for groups without running members',
    // The plans (a move per group and partition) are in the restore's folder: MapOffsets stored them there.
    payload: {
      config_ref: sfn.JsonPath.objectAt('$.prepared.config_ref'),
      job: sfn.JsonPath.objectAt('$.prepared.job'),
    },
    resultPath: '$.groups',
  });
  const verify = invokeStep(b, 'VerifyRestore', 'restore-verify', {
    comment: 'Count every target partition against the restore state; store the report',
    // ResetConsumerGroups' results are in the restore's folder; the report it returns is abridged when large.
    payload: common,
    resultPath: '$.report',
  });
  for (const s of [prepare, map, mapOffsets, reset, verify])
    s.addCatch(opts.onFailure, { errors: ['States.ALL'], resultPath: '$.error' });
  const ok = new sfn.Choice(b.scope, 'RestoreVerified?');
  prepare.next(map).next(mapOffsets).next(reset).next(verify).next(ok);
  return {
    start: prepare,
    next: (then) => ok.when(sfn.Condition.booleanEquals('$.report.ok', true), then),
    onNotOk: (then) => ok.otherwise(then),
  };
}
