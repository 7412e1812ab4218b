// The serverless workflows: for the CDK app (lib/infra, bin/cdk-app.ts). See README, "Serverless workflows".

export {
  type DrillExecutionDefaults,
  DrillFunctions,
  DrillWorkflow,
  type DrillWorkflowProps,
} from './drill-workflow.ts';
export { CONTAINER_NAME, WorkflowFunctions, type WorkflowFunctionsProps } from './functions.ts';
export { BackupWorkflow, FailbackWorkflow, FailoverWorkflow, type WorkflowProps } from './workflows.ts';
