// Backup workflow, last step: manifest, retention, success metrics, lease released.
import { lambdaHandler } from './lambda.ts';

export const handler = lambdaHandler('backup-finalize');
