// Restore: commit the mapped consumer-group offsets.
import { lambdaHandler } from './lambda.ts';

export const handler = lambdaHandler('restore-reset-groups');
