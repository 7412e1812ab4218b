// Drill workflow, after a drill that failed without returning: deletes the topics under its scratch prefix only.
import { lambdaHandler } from './lambda.ts';

export const handler = lambdaHandler('drill-cleanup');
