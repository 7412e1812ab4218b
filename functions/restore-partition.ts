// Restore worker: write one target partition, or stop before the timeout and return a continuation.
import { lambdaHandler } from './lambda.ts';

export const handler = lambdaHandler('restore-partition');
