// Backup workflow worker: read one partition until the cut, or stop before the timeout and return a continuation.
import { lambdaHandler } from './lambda.ts';

export const handler = lambdaHandler('backup-partition');
