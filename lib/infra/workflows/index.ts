// The serverless workflows: for the CDK app (lib/infra, bin/cdk-app.ts). See README, "Serverless workflows".
export { CONTAINER_NAME, WorkflowFunctions, type WorkflowFunctionsProps } from './functions.ts';
export { BackupWorkflow, FailbackWorkflow, FailoverWorkflow, type WorkflowProps } from './workflows.ts';
