// Backup workflow failure path: the failure metric, the lease released.
import { lambdaHandler } from './lambda.ts';

export const handler = lambdaHandler('backup-failed');
