import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  BackupWorkflow,
  DrillWorkflow,
  FailbackWorkflow,
  FailoverWorkflow,
  WorkflowFunctions,
} from '../../lib/infra/workflows/index.ts';

export type WorkflowName = 'backup' | 'failover' | 'failback' | 'drill';

/** The drill the test stack's drill workflow runs when its input names none (the deployment's, in a real stack). */
export const TEST_DRILL = {
  kind: 'backup',
  namespace: 'kafka-backup-drill',
  config: {
    mode: 'restore',
    backup_id: 'latest',
    target: { bootstrap_servers: ['kafka-0.us-east-1.example.com:9092'] },
    storage: { backend: 's3', bucket: 'kafka-backups-dr', region: 'us-east-1', prefix: 'us-west-2/hourly' },
  },
  source_cluster_id: 'prod-us-west-2',
} as const;

/**
 * The four workflows in one stack (the drill with its own functions, as a DR stack makes it), synthesized without bundling the functions (no esbuild run, no Docker), as a
 * CDK app would build them. Returns each state machine's definition as the template holds it.
 */
export function synthWorkflows(): { template: Template; definitions: Record<WorkflowName, unknown> } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Workflows', { env: { account: '123456789012', region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const securityGroups = [new ec2.SecurityGroup(stack, 'Sg', { vpc })];
  const bucket = new s3.Bucket(stack, 'Bucket', { versioned: true });
  const kafkaSecret = new secretsmanager.Secret(stack, 'KafkaSecret');
  const notificationTopic = new sns.Topic(stack, 'Topic');
  const props = {
    bucket,
    vpc,
    securityGroups,
    kafkaSecret,
    notificationTopic,
    maxConcurrency: 8,
    lambdaTimeout: Duration.minutes(15),
    containerImage: ecs.ContainerImage.fromRegistry('kafka-backup:test'),
    // What the failover test's hooks name (a hook the deployment does not name fails with HookNotAllowed).
    hooks: {
      lambdaFunctions: ['arn:aws:lambda:us-east-1:123456789012:function:stop-consumers'],
      ecsServices: [{ cluster: 'apps', service: 'order-service' }],
    },
  };
  const functions = new WorkflowFunctions(stack, 'Functions', props);
  const workflows = {
    backup: new BackupWorkflow(stack, 'Backup', { ...props, functions }),
    failover: new FailoverWorkflow(stack, 'Failover', { ...props, functions }),
    failback: new FailbackWorkflow(stack, 'Failback', { ...props, functions }),
    drill: new DrillWorkflow(stack, 'Drill', { ...props, drill: structuredClone(TEST_DRILL) as never }),
  };
  const template = Template.fromStack(stack);
  const definitions = {} as Record<WorkflowName, unknown>;
  for (const [name, wf] of Object.entries(workflows) as [
    WorkflowName,
    { stateMachine: BackupWorkflow['stateMachine'] },
  ][]) {
    const id = stack.getLogicalId(wf.stateMachine.node.defaultChild as never);
    const resource = template.toJSON()['Resources'][id];
    definitions[name] = resource['Properties']['DefinitionString'];
  }
  return { template, definitions };
}
