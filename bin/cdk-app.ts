#!/usr/bin/env node
/**
 * The CDK app: one stack per region of the deployment config.
 *
 *   npx cdk synth                                        # deploy/deployment.example.json
 *   npx cdk deploy kafka-backup-us-east-1 -c deployment=deploy/deployment.json
 *
 * The config file comes from the `deployment` context value (-c deployment=PATH), else KAFKA_BACKUP_DEPLOYMENT,
 * else deploy/deployment.example.json.
 *
 * Run without the CLI (`node bin/cdk-app.ts`), it synthesizes into ./cdk.out with cdk.json's context, as
 * `cdk synth` would: the same cloud assembly, for a CLI that cannot read this aws-cdk-lib's assembly version.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { buildKafkaBackupApp } from '../lib/infra/app.ts';
import { DeploymentConfigError, loadDeploymentConfig } from '../lib/infra/deployment-config.ts';
import { SpecError } from '../lib/infra/specs.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const underCli = process.env['CDK_OUTDIR'] !== undefined;
const app = new App(
  underCli
    ? {}
    : {
        outdir: join(ROOT, 'cdk.out'),
        context: JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context ?? {},
      },
);
const path = resolve(
  (app.node.tryGetContext('deployment') as string | undefined) ??
    process.env['KAFKA_BACKUP_DEPLOYMENT'] ??
    'deploy/deployment.example.json',
);
try {
  buildKafkaBackupApp(app, loadDeploymentConfig(path), { nag: true });
} catch (error) {
  if (error instanceof DeploymentConfigError || error instanceof SpecError) {
    console.error(`kafka-backup CDK app: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
app.synth();
