// Failover: validate the backup (deep: read and checksum every segment).
import { lambdaHandler } from './lambda.ts';

export const handler = lambdaHandler('validate-backup');
