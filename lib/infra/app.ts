import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { DeploymentConfig } from './deployment-config.ts';
import { DrStack, PrimaryStack, RestoreTargetStack, stackName } from './stacks/index.ts';

export interface KafkaBackupStacks {
  readonly primary: PrimaryStack;
  readonly dr: DrStack[];
  readonly restoreTargets: RestoreTargetStack[];
  readonly all: (PrimaryStack | DrStack | RestoreTargetStack)[];
}

export interface BuildOptions {
  /** Register cdk-nag's AwsSolutions checks as a validation plugin: synth fails on an unacknowledged finding. */
  readonly nag?: boolean;
}

/**
 * One stack per region, each with an explicit env (account and region), named `<namePrefix>-<region>` so that
 * `cdk deploy kafka-backup-us-east-1` deploys one region. Stacks share nothing but names: buckets and key aliases
 * are deterministic, so there are no cross-stack (cross-region) references and each region deploys on its own.
 * Deploy DR regions before the primary: S3 refuses a replication rule whose destination bucket does not exist.
 */
export function buildKafkaBackupApp(
  app: App,
  deployment: DeploymentConfig,
  options: BuildOptions = {},
): KafkaBackupStacks {
  const env = (region: string) => ({ account: deployment.account, region });
  const tags = { application: 'kafka-backup' };

  const dr = deployment.dr.map((region) => {
    const name = stackName(deployment, region.region);
    return new DrStack(app, name, { stackName: name, env: env(region.region), deployment, dr: region, tags });
  });
  const primaryName = stackName(deployment, deployment.primary.region);
  const primary = new PrimaryStack(app, primaryName, {
    stackName: primaryName,
    env: env(deployment.primary.region),
    deployment,
    tags,
  });
  for (const stack of dr) primary.addStackDependency(stack, 'replication needs the DR buckets to exist');
  const restoreTargets = deployment.restoreTargets.map((target) => {
    const name = stackName(deployment, target.region);
    return new RestoreTargetStack(app, name, {
      stackName: name,
      env: env(target.region),
      deployment,
      target,
      tags,
    });
  });

  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { primary, dr, restoreTargets, all: [primary, ...dr, ...restoreTargets] };
}
