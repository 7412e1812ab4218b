import { Annotations, Duration, TimeZone } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { RestoreConfigInput } from '../../config/schema.ts';
import { toEventBridgeCron } from '../cron.ts';
import { KafkaRestoreSpec, type ParsedKafkaRestoreSpec, parseSpec, restoreConfigFromSpec } from '../specs.ts';

/** The operator's KafkaRestore spec field for field, plus where it runs. */
export interface KafkaRestoreProps extends KafkaRestoreSpec {
  /** The KafkaRestore's metadata.name. Default: the construct id. */
  readonly name?: string;
  /** The workflow that runs the restore (the failover workflow of the region). */
  readonly stateMachine: sfn.IStateMachine;
  readonly scheduleGroup?: scheduler.IScheduleGroup;
  /** Where the execution input is kept for on-demand runs. Default: `/kafka-backup/restores/<name>`. */
  readonly parameterName?: string;
}

/** What a restore run hands the workflow: the engine config and the KafkaRestore's name. */
export interface RestoreExecutionInput {
  readonly config: RestoreConfigInput;
  readonly restore: string;
}

/**
 * A restore, ready to run: the KafkaRestore spec becomes the engine's restore config (validated now) and is kept,
 * as the workflow's execution input, in an SSM parameter, so that an operator or automation starts it with
 *
 *   aws stepfunctions start-execution --state-machine-arn <arn> \
 *     --input "$(aws ssm get-parameter --name /kafka-backup/restores/<name> --query Parameter.Value --output text)"
 *
 * With `schedule` (not in the operator, where restores are run by hand) an EventBridge schedule also runs it
 * periodically, e.g. to refresh an analytics copy.
 */
export class KafkaRestore extends Construct {
  readonly name: string;
  readonly spec: ParsedKafkaRestoreSpec;
  readonly config: RestoreConfigInput;
  readonly executionInput: RestoreExecutionInput;
  readonly parameter: ssm.StringParameter;
  readonly scheduleExpression?: string;
  readonly schedule?: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: KafkaRestoreProps) {
    super(scope, id);
    const { name = id, stateMachine, scheduleGroup, parameterName, ...spec } = props;
    this.name = name;
    this.spec = parseSpec(KafkaRestoreSpec, spec, `KafkaRestore ${name}`);
    this.config = restoreConfigFromSpec(name, this.spec);
    const { saslSecret, tlsSecret } = this.spec.targetCluster;
    if (saslSecret !== undefined && tlsSecret !== undefined && tlsSecret.name !== saslSecret.name) {
      Annotations.of(this).addWarningV2(
        'kafka-backup:TlsSecretNotRead',
        `KafkaRestore ${name}: the workflows read one Kafka secret, ${saslSecret.name} (saslSecret); ` +
          `put the CA certificate of tlsSecret ${tlsSecret.name} into it as "ssl_ca_pem"`,
      );
    }
    this.executionInput = { config: this.config, restore: name };

    this.parameter = new ssm.StringParameter(this, 'ExecutionInput', {
      parameterName: parameterName ?? `/kafka-backup/restores/${name}`,
      description: `KafkaRestore ${name}: the execution input of the restore workflow`,
      stringValue: JSON.stringify(this.executionInput),
    });

    if (this.spec.schedule !== undefined) {
      this.scheduleExpression = toEventBridgeCron(this.spec.schedule);
      this.schedule = new scheduler.Schedule(this, 'Schedule', {
        scheduleName: name,
        scheduleGroup,
        description: `KafkaRestore ${name}: "${this.spec.schedule}" (${this.spec.timeZone})`,
        schedule: scheduler.ScheduleExpression.expression(
          this.scheduleExpression,
          TimeZone.of(this.spec.timeZone),
        ),
        target: new targets.StepFunctionsStartExecution(stateMachine, {
          input: scheduler.ScheduleTargetInput.fromObject(this.executionInput),
          maxEventAge: Duration.hours(1),
          retryAttempts: 10,
        }),
      });
    }
  }
}
