// Failback: the target (primary) cluster answers.
import { lambdaHandler } from './lambda.ts';

export const handler = lambdaHandler('check-cluster');
