import { Duration, RemovalPolicy, TimeZone } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ErrorName } from '../../errors.ts';
import type { DrillInput } from '../../workflow/events.ts';
import { type DrillStepName, STEP_ENV } from '../../workflow/names.ts';
import {
  grantS3,
  logKeyFor,
  STEP_S3_ACCESS,
  type StepFunctionSet,
  type StepFunctionsProps,
  SYNTHETIC_DRILL_S3_ACCESS,
  stepEnvironment,
  stepFunction,
} from './functions.ts';
import { defaults, failTail, invokeStep, type NotifyContext, notify } from './states.ts';
import { workflowStateMachine } from './workflows.ts';

/** The drill's input as the deployment writes it: lib/workflow/events.ts DrillInput, before defaults. */
export type DrillExecutionDefaults = Omit<Partial<DrillInput>, 'config'> & Pick<DrillInput, 'config'>;

export interface DrillWorkflowProps extends StepFunctionsProps {
  /**
   * The drill it runs: the state machine's default `drill` input, so that an execution started without input (the
   * schedule's, or `aws stepfunctions start-execution` by hand) runs the deployment's drill.
   */
  readonly drill: DrillExecutionDefaults;
  /** Signs the evidence (kms:Sign, ECDSA_SHA_256). Default: an ECC_NIST_P256 SIGN_VERIFY key made here, retained. */
  readonly evidenceKey?: kms.IKey;
  /** Encrypts the log groups. Default: a key made here. */
  readonly logKey?: kms.IKey;
  /** A failed drill is published here (besides the failed-execution alarm). */
  readonly notificationTopic?: sns.ITopic;
  readonly logExecutionData?: boolean;
  /** EventBridge Scheduler schedule: an expression (`cron(0 4 ? * 2#1 *)`) and its time zone. Default: none. */
  readonly schedule?: {
    readonly expression: string;
    readonly timeZone: string;
    readonly group?: scheduler.IScheduleGroup;
    /** The group's name as text (the evidence names the schedule that triggered the drill). */
    readonly groupName?: string;
    readonly description?: string;
  };
}

/**
 * The drill's two functions, made here and not by every stack's WorkflowFunctions: only a DR stack drills, and only
 * its drill function may sign with the evidence key. Both read the bucket; drill-run writes evidence and the
 * restore state of its scratch restore, and deletes nothing (a synthetic drill: also its own `_drills/` location).
 */
export class DrillFunctions extends Construct implements StepFunctionSet<DrillStepName> {
  readonly functions: Readonly<Record<DrillStepName, lambda.IFunction>>;
  readonly lambdaTimeout: Duration;

  constructor(
    scope: Construct,
    id: string,
    props: StepFunctionsProps & { logKey: kms.IKey; evidenceKey: kms.IKey; synthetic: boolean },
  ) {
    super(scope, id);
    this.lambdaTimeout = props.lambdaTimeout ?? Duration.minutes(15);
    const environment = stepEnvironment(this, props);
    const common = {
      ...props,
      logKey: props.logKey,
      lambdaTimeout: this.lambdaTimeout,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    };
    const run = stepFunction(this, 'drill-run', {
      ...common,
      // It restores and reads back data, as a partition worker does.
      memorySize: props.memorySize ?? 2048,
      environment: { ...environment, [STEP_ENV.evidenceKmsKey]: props.evidenceKey.keyArn },
    });
    grantS3(run, props.bucket, STEP_S3_ACCESS['drill-run']);
    if (props.synthetic) grantS3(run, props.bucket, SYNTHETIC_DRILL_S3_ACCESS);
    props.evidenceKey.grant(run, 'kms:Sign', 'kms:GetPublicKey');
    // With client-side encryption the evidence and the restore state are encrypted like everything else stored.
    props.clientSideEncryption?.grant(run, true);
    const cleanup = stepFunction(this, 'drill-cleanup', { ...common, memorySize: 512, environment });
    grantS3(cleanup, props.bucket, STEP_S3_ACCESS['drill-cleanup']);
    props.clientSideEncryption?.grant(cleanup, false);
    this.functions = { 'drill-run': run, 'drill-cleanup': cleanup };
  }

  fn(step: DrillStepName): lambda.IFunction {
    return this.functions[step];
  }
}

/**
 * The DR drill as a state machine, on a schedule (monthly by default). Input (all optional):
 * `{ "drill": <DrillInput>, "trigger": { "via": "schedule"|"workflow", "principal": "..." } }`.
 *
 * ScratchPrefix (`<namespace>-<execution name>.`) -> RunDrill (restore, check, measure, sign and store the evidence,
 * emit the metrics) -> passed: succeed with the summary; not passed: notify and fail (DrillFailed). Any error of
 * RunDrill, a Lambda timeout included, goes to CleanUpDrill, which deletes the topics under the execution's scratch
 * prefix (and nothing else), then notifies and fails with that error.
 */
export class DrillWorkflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly functions: DrillFunctions;
  readonly evidenceKey: kms.IKey;
  readonly schedule?: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: DrillWorkflowProps) {
    super(scope, id);
    const logKey = props.logKey ?? logKeyFor(this, 'LogKey');
    this.evidenceKey =
      props.evidenceKey ??
      new kms.Key(this, 'EvidenceKey', {
        description:
          'kafka-backup: signs DR drill evidence (kafka-backup evidence verify --evidence-kms-key-id <arn>)',
        keySpec: kms.KeySpec.ECC_NIST_P256,
        keyUsage: kms.KeyUsage.SIGN_VERIFY,
        // Evidence signed with it must stay verifiable for as long as auditors keep asking.
        removalPolicy: RemovalPolicy.RETAIN,
      });
    this.functions = new DrillFunctions(this, 'Functions', {
      ...props,
      logKey,
      evidenceKey: this.evidenceKey,
      synthetic: props.drill.kind === 'synthetic',
    });
    const b = { scope: this as Construct, fns: this.functions };
    const nb: NotifyContext = { scope: this, notificationTopic: props.notificationTopic, workflow: 'drill' };

    const drillDefaults = new sfn.Pass(this, 'DrillDefaults', {
      comment: 'A drill input without a namespace gets the default one',
      parameters: {
        drill: sfn.JsonPath.jsonMerge(
          sfn.JsonPath.stringToJson(JSON.stringify({ namespace: 'kafka-backup-drill' })),
          sfn.JsonPath.objectAt('$.drill'),
        ),
        trigger: sfn.JsonPath.objectAt('$.trigger'),
      },
    });
    const scratch = new sfn.Pass(this, 'ScratchPrefix', {
      comment: 'Every topic the drill creates starts with this; CleanUpDrill deletes only these',
      parameters: {
        prefix: sfn.JsonPath.format(
          '{}-{}.',
          sfn.JsonPath.stringAt('$.drill.namespace'),
          sfn.JsonPath.stringAt('$$.Execution.Name'),
        ),
      },
      resultPath: '$.scratch',
    });
    const common = {
      drill: sfn.JsonPath.objectAt('$.drill'),
      scratch_prefix: sfn.JsonPath.stringAt('$.scratch.prefix'),
      execution: {
        id: sfn.JsonPath.stringAt('$$.Execution.Id'),
        name: sfn.JsonPath.stringAt('$$.Execution.Name'),
      },
    };
    const run = invokeStep(b, 'RunDrill', 'drill-run', {
      comment:
        'Restore the newest complete backup into the scratch namespace (or the synthetic drill), check, measure, sign and store the evidence',
      payload: { ...common, trigger: sfn.JsonPath.objectAt('$.trigger') },
      resultPath: '$.result',
      // Run once: a drill that timed out would time out again, and its evidence is never overwritten.
      retryTransient: false,
    });
    const tail = failTail(nb);
    const cleanup = invokeStep(b, 'CleanUpDrill', 'drill-cleanup', {
      comment: "Delete the topics under this execution's scratch prefix, nothing else",
      payload: { ...common, error: sfn.JsonPath.objectAt('$.error') },
      resultPath: null,
    });
    cleanup.addCatch(tail, { errors: ['States.ALL'], resultPath: '$.cleanup_error' });
    cleanup.next(tail);
    run.addCatch(cleanup, { errors: ['States.ALL'], resultPath: '$.error' });
    const failed = notify(nb, 'NotifyDrillFailed', 'failed', {
      evidence_id: sfn.JsonPath.stringAt('$.result.evidence_id'),
      location: sfn.JsonPath.stringAt('$.result.location'),
      failed_steps: sfn.JsonPath.objectAt('$.result.failed_steps'),
      error: 'DrillFailed' satisfies ErrorName,
    }).next(
      new sfn.Fail(this, 'DrillFailed', {
        error: 'DrillFailed' satisfies ErrorName,
        cause:
          'the drill ran and a check failed: its signed evidence names what (kafka-backup evidence show)',
      }),
    );
    run.next(
      new sfn.Choice(this, 'DrillPassed?')
        .when(
          sfn.Condition.booleanEquals('$.result.ok', true),
          new sfn.Succeed(this, 'DrillPassed', { outputPath: '$.result' }),
        )
        .otherwise(failed),
    );
    const definition = defaults(b, { drill: props.drill, trigger: { via: 'workflow' } })
      .next(drillDefaults)
      .next(scratch)
      .next(run);

    this.stateMachine = workflowStateMachine(this, definition, {
      logKey,
      logExecutionData: props.logExecutionData,
      notificationTopic: props.notificationTopic,
    });

    if (props.schedule) {
      const group = props.schedule.groupName ?? 'default';
      this.schedule = new scheduler.Schedule(this, 'Schedule', {
        scheduleName: 'drill',
        scheduleGroup: props.schedule.group,
        description: props.schedule.description ?? 'kafka-backup: the DR drill',
        schedule: scheduler.ScheduleExpression.expression(
          props.schedule.expression,
          TimeZone.of(props.schedule.timeZone),
        ),
        target: new targets.StepFunctionsStartExecution(this.stateMachine, {
          input: scheduler.ScheduleTargetInput.fromObject({
            trigger: { via: 'schedule', principal: `EventBridge Scheduler schedule ${group}/drill` },
          }),
          maxEventAge: Duration.hours(1),
          retryAttempts: 3,
        }),
      });
    }
  }
}
