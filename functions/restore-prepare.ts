// Restore, first step: plan, create the missing topics, one work item per target partition.
import { lambdaHandler } from './lambda.ts';

export const handler = lambdaHandler('restore-prepare');
