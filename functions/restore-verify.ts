// Restore: count every target partition, store the report, emit the restore metrics.
import { lambdaHandler } from './lambda.ts';

export const handler = lambdaHandler('restore-verify');
