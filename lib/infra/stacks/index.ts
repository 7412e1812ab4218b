// The CDK app's stacks, one per region and one per file: the primary (backups), each DR region (replica bucket,
// failover and failback), each extra restore target. lib/infra/app.ts builds them from the deployment file.
export { DrStack } from './dr-stack.ts';
export { PrimaryStack } from './primary-stack.ts';
export {
  bucketKeyAlias,
  type RegionRole,
  RegionStack,
  type RegionStackProps,
  sourceClusterIds,
  stackName,
} from './region-stack.ts';
export { RestoreTargetStack } from './restore-target-stack.ts';
