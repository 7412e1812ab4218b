// Failover: the newest backup that is complete and fully present in this region's bucket.
import { lambdaHandler } from './lambda.ts';

export const handler = lambdaHandler('find-backup');
