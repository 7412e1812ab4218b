// Restore failure path: the failure metric.
import { lambdaHandler } from './lambda.ts';

export const handler = lambdaHandler('restore-failed');
