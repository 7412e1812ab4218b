import { Annotations, Duration, TimeZone } from 'aws-cdk-lib';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { BackupConfigInput } from '../../config/schema.ts';
import { toEventBridgeCron } from '../cron.ts';
import {
  backupConfigFromSpec,
  type ConfigOptions,
  KafkaBackupSpec,
  type ParsedKafkaBackupSpec,
  parseSpec,
} from '../specs.ts';

/** The operator's KafkaBackup spec field for field, plus where it runs. */
export interface KafkaBackupProps extends KafkaBackupSpec {
  /** The KafkaBackup's metadata.name: names the schedule and starts every backup id. Default: the construct id. */
  readonly name?: string;
  /** The backup workflow the schedule starts. */
  readonly stateMachine: sfn.IStateMachine;
  readonly scheduleGroup?: scheduler.IScheduleGroup;
  /** How each run's backup id is made (see ConfigOptions). */
  readonly configOptions?: ConfigOptions;
  /** Default true. */
  readonly enabled?: boolean;
}

/** What a schedule hands the backup workflow: the engine config and the schedule's name. */
export interface BackupExecutionInput {
  readonly config: BackupConfigInput;
  readonly schedule: string;
}

/**
 * A scheduled backup: the KafkaBackup spec becomes the engine's backup config (checked against the engine's schema
 * now, so a wrong prop fails `cdk synth` naming the field) and an EventBridge Scheduler schedule that starts the
 * backup workflow with `{ config, schedule }` on the spec's cron.
 */
export class KafkaBackup extends Construct {
  readonly name: string;
  readonly spec: ParsedKafkaBackupSpec;
  readonly config: BackupConfigInput;
  readonly executionInput: BackupExecutionInput;
  /** EventBridge form of spec.schedule, e.g. `cron(0 * * * ? *)`. */
  readonly scheduleExpression: string;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: KafkaBackupProps) {
    super(scope, id);
    const { name = id, stateMachine, scheduleGroup, configOptions, enabled, ...spec } = props;
    this.name = name;
    this.spec = parseSpec(KafkaBackupSpec, spec, `KafkaBackup ${name}`);
    this.config = backupConfigFromSpec(name, this.spec, configOptions);
    const { saslSecret, tlsSecret } = this.spec.kafkaCluster;
    if (saslSecret !== undefined && tlsSecret !== undefined && tlsSecret.name !== saslSecret.name) {
      Annotations.of(this).addWarningV2(
        'kafka-backup:TlsSecretNotRead',
        `KafkaBackup ${name}: the workflows read one Kafka secret, ${saslSecret.name} (saslSecret); ` +
          `put the CA certificate of tlsSecret ${tlsSecret.name} into it as "ssl_ca_pem"`,
      );
    }
    this.executionInput = { config: this.config, schedule: name };
    this.scheduleExpression = toEventBridgeCron(this.spec.schedule);

    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      scheduleName: name,
      scheduleGroup,
      description: `KafkaBackup ${name}: "${this.spec.schedule}" (${this.spec.timeZone}) into s3://${this.spec.storage.s3.bucket}/${this.spec.storage.s3.prefix}`,
      schedule: scheduler.ScheduleExpression.expression(
        this.scheduleExpression,
        TimeZone.of(this.spec.timeZone),
      ),
      target: new targets.StepFunctionsStartExecution(stateMachine, {
        input: scheduler.ScheduleTargetInput.fromObject(this.executionInput),
        // A start that cannot happen within the hour is superseded by the next hourly run anyway.
        maxEventAge: Duration.hours(1),
        retryAttempts: 10,
      }),
      enabled: enabled ?? true,
    });
  }
}
