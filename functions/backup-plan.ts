// Backup workflow, first step: lease the location, resolve the topics, take the cut, one work item per partition.
import { lambdaHandler } from './lambda.ts';

export const handler = lambdaHandler('backup-plan');
