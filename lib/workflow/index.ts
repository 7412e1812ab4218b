export { ConfigRef, WorkflowLayout } from './config.ts';
export { StepEvents } from './events.ts';
export { STEP_ENV, STEP_NAMES, type StepName } from './names.ts';
export { configVariables, policyFromEnv, type WorkflowPolicy } from './policy.ts';
export { deadlineOf, type StepRuntime } from './runtime.ts';
export { kafkaSecretFromEnv } from './secret.ts';
export { runStep, STEPS } from './steps.ts';
