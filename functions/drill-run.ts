// Drill workflow: a DR drill (the newest backup restored into a scratch namespace, or the synthetic drill), its
// evidence signed with the stack's KMS key and stored next to the backups.
import { lambdaHandler } from './lambda.ts';

export const handler = lambdaHandler('drill-run');
