// Restore: the offset mapping, where each consumer group resumes on the target.
import { lambdaHandler } from './lambda.ts';

export const handler = lambdaHandler('restore-map-offsets');
