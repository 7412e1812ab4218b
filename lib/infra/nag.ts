import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * A cdk-nag finding that is acceptable here, and why. `rule` matches the finding id (e.g.
 * `AwsSolutions-IAM5[Resource::*]`), `path` the path of the construct it is on, below the stack.
 */
export interface Justification {
  readonly rule: RegExp;
  readonly path: RegExp;
  readonly reason: string;
}

const WORKFLOW_FUNCTION_ROLE = /^(WorkflowFunctions|DrillWorkflow\/Functions)\/[A-Za-z]+\/ServiceRole\//;
const WORKFLOW_TASK_ROLE = /^WorkflowFunctions\/Task\/TaskRole\//;
const STATE_MACHINE_ROLE = /^[A-Za-z]+Workflow\/StateMachine\/Role\//;

/**
 * The findings of the AwsSolutions pack on the workflows (lib/infra/workflows) and on the resources CDK builds
 * around them, each for a reason. Narrow on purpose: a new kind of finding matches none of these and fails synth.
 */
export const WORKFLOW_JUSTIFICATIONS: readonly Justification[] = [
  {
    rule: /^AwsSolutions-IAM4\[Policy::arn:<AWS::Partition>:iam::aws:policy\/service-role\/AWSLambda(Basic|VPCAccess)ExecutionRole\]$/,
    path: /^(WorkflowFunctions\/[A-Za-z]+|DrillWorkflow\/Functions\/[A-Za-z]+|DrReadiness\/Function)\/ServiceRole\/Resource$/,
    reason:
      "AWS's Lambda execution policies: writing the function's own CloudWatch Logs, and for functions in the Kafka " +
      'VPC the network-interface calls Lambda makes to attach them (ec2:CreateNetworkInterface and kin have no ' +
      'resource-level scoping). Nothing else.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Action::s3:(GetBucket|GetObject|List)\*\]$/,
    path: new RegExp(`(${WORKFLOW_FUNCTION_ROLE.source}|${WORKFLOW_TASK_ROLE.source})`),
    reason:
      'bucket.grantRead on the one backup bucket (every step reads and lists); writes and deletes are separate ' +
      'statements without action wildcards, on key patterns per step (STEP_S3_ACCESS in lib/infra/workflows/functions.ts).',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::(<[A-Za-z0-9]+\.Arn>|arn:<AWS::Partition>:s3:::[a-z0-9.-]+)\/\*(backups\/\*|segments\/\*|lease\.json|restores\/\*|restores\/\*\/lease\.json|evidence\/\*)\]$/,
    path: new RegExp(`(${WORKFLOW_FUNCTION_ROLE.source}|${WORKFLOW_TASK_ROLE.source})`),
    reason:
      'Per-step write and delete scopes in the backup bucket: the key patterns of lib/storage/layout.ts (backups/<id>/, ' +
      'segments/, lease.json, restores/<id>/, evidence/<id>/) under any location prefix, which the execution input chooses.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::(<[A-Za-z0-9]+\.Arn>|arn:<AWS::Partition>:s3:::[a-z0-9.-]+)\/(\*\/)?_drills\/\*\]$/,
    path: /^DrillWorkflow\/Functions\/DrillRun\/ServiceRole\/DefaultPolicy\/Resource$/,
    reason:
      "A synthetic drill's own sub-location (<location>/_drills/): it backs up a test topic there and removes that " +
      'backup afterwards; nothing outside it.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Action::kms:(GenerateDataKey|ReEncrypt)\*\]$/,
    path: new RegExp(`(${WORKFLOW_FUNCTION_ROLE.source}|${WORKFLOW_TASK_ROLE.source})`),
    reason:
      'Under SSE-KMS, the writing steps use the bucket key for the objects they write (kms:GenerateDataKey*, ' +
      'kms:ReEncrypt* variants) on that one key.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Action::kms:GenerateDataKey\*\]$/,
    path: STATE_MACHINE_ROLE,
    reason:
      "Publishing to the KMS-encrypted alarm topic (SNS asks for a data key of the stack's log and topic key): that one key.",
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:kms:[a-z0-9-]+:\d{12}:key\/\*\]$/,
    path: new RegExp(`(${WORKFLOW_FUNCTION_ROLE.source}|${WORKFLOW_TASK_ROLE.source})`),
    reason:
      'A restore target reads a bucket of another region whose SSE-KMS key that stack made: its ARN is not known ' +
      'here, so the statement is narrowed to the key by alias (kms:ResourceAliases) and to use through S3 (kms:ViaService).',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::(<[A-Za-z0-9]+\.Arn>|arn:<AWS::Partition>:s3:::[a-z0-9.-]+)\/\*\]$/,
    path: new RegExp(`(${WORKFLOW_FUNCTION_ROLE.source}|${WORKFLOW_TASK_ROLE.source})`),
    reason:
      'Objects of the one backup bucket the workflows read and write (segments, manifests, leases, restore state): ' +
      'object keys are made at run time, so the grant names the bucket with a trailing wildcard.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::\*\]$/,
    path: new RegExp(
      `(${WORKFLOW_FUNCTION_ROLE.source}|${WORKFLOW_TASK_ROLE.source}|${STATE_MACHINE_ROLE.source})`,
    ),
    reason:
      'Actions without resource-level permissions: X-Ray trace writes (xray:PutTraceSegments, PutTelemetryRecords, ' +
      'GetSampling*), the CloudWatch Logs vended-log delivery calls Step Functions logging needs, and ' +
      'ecs:DescribeTasks/StopTask of the ecs:runTask.sync integration.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::<[A-Za-z0-9]+\.Arn>:\*\]$/,
    path: /^([A-Za-z]+Workflow\/StateMachine\/Role|SchedulerRoleForTarget-[0-9a-f]+)\/DefaultPolicy\/Resource$/,
    reason:
      'Invoking a function of this stack, any of its versions or aliases (`<function ARN>:*`, as grantInvoke ' +
      'writes it): the functions named, and no other.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::arn:\{"Fn::Select".*\}:\*\]$/,
    path: STATE_MACHINE_ROLE,
    reason:
      'ecs:RunTask of the Fargate task definition of this stack, any revision of its family (`:*`), as ' +
      'tasks.EcsRunTask writes it.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::(<[A-Za-z0-9]+\.Arn>|arn:<AWS::Partition>:s3:::[a-z0-9.-]+)\/\*(backups|restores)\/\*\/workflow\/(items\.json|results\/\*)\]$/,
    path: /^[A-Za-z]+Workflow\/StateMachine\/Role\/DefaultPolicy\/Resource$/,
    reason:
      "A Distributed Map's items and results (lib/infra/workflows/map-io.ts): its ItemReader reads the run's " +
      "workflow/items.json, its ResultWriter writes under the run's workflow/results/ (a folder per Map Run), under " +
      'any location prefix and backup or restore id, which the execution chooses; nothing else of the bucket.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:states:[a-z0-9-]+:\d{12}:execution:.*:\*\]$/,
    path: /^[A-Za-z]+Workflow\/StateMachine\/DistributedMapPolicy\/Resource$/,
    reason:
      "A Distributed Map starts and watches child executions of its own state machine: the executions' names are " +
      'made at run time.',
  },
  {
    rule: /^AwsSolutions-ECS2$/,
    path: /^WorkflowFunctions\/Task\/Resource$/,
    reason:
      'The environment of the Fargate task holds settings only (deadline margin, lease TTL, the ARN of the Kafka ' +
      'secret); secret values are read from Secrets Manager at run time, never put in the task definition.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::\*\]$/,
    path: /^DrReadiness\/Function\/ServiceRole\/DefaultPolicy\/Resource$/,
    reason:
      'X-Ray trace writes of the Powertools Tracer (xray:PutTraceSegments, PutTelemetryRecords): no resource-level permissions.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Action::s3:(GetBucket|GetObject|List)\*\]$/,
    path: /^DrReadiness\/Function\/ServiceRole\/DefaultPolicy\/Resource$/,
    reason:
      'Read-only access (bucket.grantRead) to the backup manifests in the replica bucket; no write of any kind.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::<[A-Za-z0-9]+\.Arn>\/[^\]]*\/backups\/\*\]$/,
    path: /^DrReadiness\/Function\/ServiceRole\/DefaultPolicy\/Resource$/,
    reason:
      'The backups folders of the replicated locations, read to find their newest manifest: a folder needs a wildcard.',
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::<[A-Za-z0-9]+\.Arn>\/([^\]]*\/)?evidence\/\*\]$/,
    path: /^DrReadiness\/Function\/ServiceRole\/DefaultPolicy\/Resource$/,
    reason:
      "The drill's evidence folder, read to find the newest passing drill (its signature checked with the evidence key's public half).",
  },
];

/**
 * Findings on statements CDK adds only while synthesizing (after the stack's constructor), acknowledged up front on
 * the construct they will be on, below the stack.
 */
export const LATE_WORKFLOW_ACKNOWLEDGEMENTS: readonly { path: string; id: string; reason: string }[] = [
  {
    path: 'WorkflowFunctions/Task/ExecutionRole',
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'ecr:GetAuthorizationToken, which the Fargate task needs to pull its image, has no resource-level ' +
      'permission; the pull itself (ecr:BatchGetImage...) is limited to the image asset repository.',
  },
];

/**
 * Runs the AwsSolutions checks over a stack as it stands and acknowledges, on the construct it concerns, each
 * finding a justification matches, with the justification's reason. Call once the stack is complete. Findings that
 * match nothing stay, and fail synth through the validation plugin.
 */
export function acknowledgeJustified(stack: IConstruct, justifications: readonly Justification[]): void {
  const report = new AwsSolutionsChecks().validateScope(stack);
  const prefix = `${stack.node.path}/`;
  const byPath = new Map(stack.node.findAll().map((c) => [c.node.path, c]));
  for (const violation of report.violations) {
    for (const resource of violation.violatingResources) {
      const path = resource.constructPath ?? '';
      const relative = path.startsWith(prefix) ? path.slice(prefix.length) : path;
      const justification = justifications.find(
        (j) => j.rule.test(violation.ruleName) && j.path.test(relative),
      );
      const construct = byPath.get(path);
      if (justification && construct) {
        Validations.of(construct).acknowledge({ id: violation.ruleName, reason: justification.reason });
      }
    }
  }
  for (const late of LATE_WORKFLOW_ACKNOWLEDGEMENTS) {
    const construct = byPath.get(`${prefix}${late.path}`);
    if (construct) Validations.of(construct).acknowledge({ id: late.id, reason: late.reason });
  }
}
