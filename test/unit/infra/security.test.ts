import { readFileSync } from 'node:fs';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildKafkaBackupApp, type KafkaBackupStacks } from '../../../lib/infra/app.ts';
import { DeploymentConfigError, parseDeploymentConfig } from '../../../lib/infra/deployment-config.ts';
import { STEP_S3_ACCESS } from '../../../lib/infra/workflows/functions.ts';
import { STEP_ENV } from '../../../lib/workflow/names.ts';

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation, walked freely
type Json = any;

const EXAMPLE = JSON.parse(readFileSync('deploy/deployment.example.json', 'utf8'));
const CONTEXT = { ...JSON.parse(readFileSync('cdk.json', 'utf8')).context, 'aws:cdk:bundling-stacks': [] };
const SYNTH_TIMEOUT = 180_000;

function build(data: unknown = EXAMPLE): KafkaBackupStacks {
  return buildKafkaBackupApp(new App({ context: CONTEXT }), parseDeploymentConfig(data));
}

/** `Fn::Join` of strings and tokens, as one string (tokens as `<token>`). */
function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (v['Ref'] === 'AWS::Partition') return 'aws';
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(flat).join(sep);
    }
  }
  return '<token>';
}
const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

interface Statement {
  policy: string;
  actions: string[];
  resources: string[];
}

/** Every Allow statement of every identity policy of the template, with the policy's logical id. */
function statementsOf(template: Template): Statement[] {
  const out: Statement[] = [];
  for (const [id, p] of Object.entries(template.findResources('AWS::IAM::Policy') as Record<string, Json>)) {
    for (const s of p.Properties.PolicyDocument.Statement) {
      if (s.Effect !== 'Allow') continue;
      out.push({ policy: id, actions: list(s.Action), resources: list(s.Resource).map(flat) });
    }
  }
  return out;
}

const DELETES = /^s3:(\*|Delete)/;
const WRITES = /^s3:(\*|Put|Delete|Abort|Replicate|Restore)/;

describe('least privilege and encrypted logs in the example app', { timeout: SYNTH_TIMEOUT }, () => {
  let stacks: KafkaBackupStacks;
  let templates: { name: string; template: Template; stack: Stack }[];
  beforeAll(() => {
    stacks = build();
    templates = stacks.all.map((stack) => ({
      name: stack.stackName,
      template: Template.fromStack(stack),
      stack,
    }));
  }, SYNTH_TIMEOUT);

  it('only the retention step (backup-finalize) can delete data; others at most their lease; no role destroys a version', () => {
    let finalizeDeletes = 0;
    for (const { name, template } of templates) {
      for (const s of statementsOf(template)) {
        const where = `${name} ${s.policy}: ${s.actions.join(',')} on ${s.resources.join(',')}`;
        expect(
          s.actions.some((a) => /^s3:(\*|DeleteObjectVersion|Delete\*|DeleteBucket)/.test(a)),
          where,
        ).toBe(false);
        if (!s.actions.some((a) => DELETES.test(a))) continue;
        if (s.policy.startsWith('WorkflowFunctionsBackupFinalize')) {
          finalizeDeletes++;
          continue;
        }
        // Everyone else: lease objects only.
        for (const r of s.resources) expect(r, where).toMatch(/\/\*(restores\/\*\/)?lease\.json$/);
      }
    }
    expect(finalizeDeletes).toBeGreaterThan(0);
  });

  it('read-only steps read and list only', () => {
    const readOnly = Object.entries(STEP_S3_ACCESS)
      .filter(([, a]) => a.put.length === 0 && a.delete.length === 0)
      .map(([step]) =>
        step
          .split('-')
          .map((w) => w[0]!.toUpperCase() + w.slice(1))
          .join(''),
      );
    expect(readOnly).toEqual(['FindBackup', 'ValidateBackup', 'CheckCluster', 'DrillCleanup']);
    for (const { name, template } of templates) {
      for (const s of statementsOf(template)) {
        if (
          !readOnly.some(
            (step) =>
              s.policy.startsWith(`WorkflowFunctions${step}`) ||
              s.policy.startsWith(`DrillWorkflowFunctions${step}`),
          )
        )
          continue;
        expect(
          s.actions.filter((a) => WRITES.test(a)),
          `${name} ${s.policy}`,
        ).toEqual([]);
      }
    }
  });

  it('writers never write outside their key patterns; restore-only stacks never write backups', () => {
    for (const { name, template, stack } of templates) {
      const restoreOnly = stacks.restoreTargets.includes(stack as never);
      for (const s of statementsOf(template)) {
        if (!s.policy.startsWith('WorkflowFunctions') || !s.actions.some((a) => WRITES.test(a))) continue;
        // The one deleter of data (retention) may delete any object of the location: see STEP_S3_ACCESS.
        const finalizeDelete =
          s.policy.startsWith('WorkflowFunctionsBackupFinalize') &&
          s.actions.every((a) => /^s3:Delete/.test(a));
        for (const r of s.resources) {
          const where = `${name} ${s.policy} on ${r}`;
          if (finalizeDelete) {
            expect(r, where).toMatch(/\/\*$/);
            continue;
          }
          expect(r, where).toMatch(
            /\/\*(backups\/\*|segments\/\*|lease\.json|restores\/\*|restores\/\*\/lease\.json)$/,
          );
          if (restoreOnly) expect(r, where).toMatch(/\/\*restores\/\*/);
        }
      }
    }
  });

  it('the state machines read only their Maps’ items.json and write only under their results/ (ItemReader, ResultWriter)', () => {
    let maps = 0;
    for (const { name, template, stack } of templates) {
      const restoreOnly = stacks.restoreTargets.includes(stack as never);
      for (const s of statementsOf(template)) {
        if (!/StateMachineRoleDefaultPolicy/.test(s.policy)) continue;
        const s3 = s.actions.filter((a) => a.startsWith('s3:'));
        if (s3.length === 0) continue;
        const where = `${name} ${s.policy}: ${s.actions.join(',')} on ${s.resources.join(',')}`;
        maps++;
        if (s3.every((a) => a === 's3:GetObject') && s.resources.every((r) => r.endsWith('/items.json'))) {
          for (const r of s.resources)
            expect(r, where).toMatch(/\/\*(backups|restores)\/\*\/workflow\/items\.json$/);
        } else {
          // What AWS lists for ResultWriter: put (multipart: list parts, abort) and get, on the results folders.
          expect(s3.sort(), where).toEqual([
            's3:AbortMultipartUpload',
            's3:GetObject',
            's3:ListMultipartUploadParts',
            's3:PutObject',
          ]);
          for (const r of s.resources)
            expect(r, where).toMatch(/\/\*(backups|restores)\/\*\/workflow\/results\/\*$/);
        }
        if (restoreOnly) for (const r of s.resources) expect(r, where).toMatch(/\/\*restores\/\*/);
      }
    }
    // Backup in the primary, failover and failback in DR, a restore in each target: each Map reads and writes.
    expect(maps).toBeGreaterThanOrEqual(8);
  });

  it('the drill functions read the bucket, put only evidence and restore state, delete at most their restore lease; only RunDrill signs', () => {
    const dr = templates.find((t) => t.stack === stacks.dr[0])!.template;
    const drill = statementsOf(dr).filter((s) => s.policy.startsWith('DrillWorkflowFunctions'));
    expect(new Set(drill.map((s) => s.policy.replace(/ServiceRole.*$/, '')))).toEqual(
      new Set(['DrillWorkflowFunctionsDrillRun', 'DrillWorkflowFunctionsDrillCleanup']),
    );
    for (const s of drill) {
      const where = `${s.policy}: ${s.actions.join(',')} on ${s.resources.join(',')}`;
      if (s.actions.some((a) => DELETES.test(a))) {
        expect(s.policy, where).toMatch(/^DrillWorkflowFunctionsDrillRun/);
        expect(s.actions, where).toEqual(['s3:DeleteObject']);
        expect(
          s.resources.map((r) => r.replace(/^<token>/, '')),
          where,
        ).toEqual(['/*restores/*/lease.json']);
      } else if (s.actions.some((a) => WRITES.test(a))) {
        expect(s.policy, where).toMatch(/^DrillWorkflowFunctionsDrillRun/);
        expect(s.resources.map((r) => r.replace(/^<token>/, '')).sort(), where).toEqual([
          '/*evidence/*',
          '/*restores/*',
        ]);
      }
      const kms = s.actions.filter((a) => /^kms:(Sign|GetPublicKey|\*)/.test(a));
      if (kms.length > 0) {
        expect(s.policy, where).toMatch(/^DrillWorkflowFunctionsDrillRun/);
        expect(kms.sort()).toEqual(['kms:GetPublicKey', 'kms:Sign']);
        expect(s.resources, where).toEqual(['<token>']);
      }
    }
    // kms:Sign appears nowhere else in the deployment.
    for (const { name, template } of templates)
      for (const s of statementsOf(template))
        if (s.actions.some((a) => /^kms:(Sign|\*)$/.test(a)))
          expect(`${name} ${s.policy}`).toMatch(/us-east-1 DrillWorkflowFunctionsDrillRun/);
  });

  it('a synthetic drill also writes and deletes in its own _drills/ location, and nowhere else', () => {
    const data = structuredClone(EXAMPLE);
    data.dr[0].drill = { kind: 'synthetic', synthetic: { backup: 'primary-hourly-backup' } };
    const stack = build(data).dr[0]!;
    const t = Template.fromStack(stack);
    // Its wider grant is acknowledged for cdk-nag with its reason, as narrowly as the others.
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
    const run = statementsOf(t).filter((s) => s.policy.startsWith('DrillWorkflowFunctionsDrillRun'));
    const deletes = run.filter((s) => s.actions.some((a) => DELETES.test(a)));
    expect(new Set(deletes.flatMap((s) => s.actions))).toEqual(new Set(['s3:DeleteObject']));
    expect(deletes.flatMap((s) => s.resources.map((r) => r.replace(/^<token>/, ''))).sort()).toEqual([
      '/*/_drills/*',
      '/*restores/*/lease.json',
      '/_drills/*',
    ]);
    const writes = run
      .filter((s) => s.actions.some((a) => WRITES.test(a) && !DELETES.test(a)))
      .flatMap((s) => s.resources.map((r) => r.replace(/^<token>/, '')))
      .sort();
    expect(writes).toEqual(['/*/_drills/*', '/*evidence/*', '/*restores/*', '/_drills/*']);
    // The synthetic drill's source cluster is the primary's: a cluster the DR workflows may already name.
    const machine = Object.entries(
      t.findResources('AWS::StepFunctions::StateMachine') as Record<string, Json>,
    ).find(([id]) => id.startsWith('DrillWorkflow'))![1];
    expect(JSON.stringify(machine.Properties.DefinitionString)).toContain(
      'kafka-0.us-west-2.example.com:9092',
    );
  });

  it('hook permissions name the functions and services of the deployment file, never a wildcard', () => {
    let hookStatements = 0;
    for (const { name, template } of templates) {
      for (const s of statementsOf(template)) {
        if (!s.actions.some((a) => a === 'lambda:InvokeFunction' || a.toLowerCase() === 'ecs:updateservice'))
          continue;
        if (s.actions.some((a) => a.toLowerCase() === 'ecs:updateservice')) {
          hookStatements++;
          expect(s.resources, name).toEqual([
            'arn:aws:ecs:us-east-1:111111111111:service/apps/order-service',
            'arn:aws:ecs:us-east-1:111111111111:service/apps/payment-processor',
          ]);
        }
        for (const r of s.resources) {
          // The workflow's own step functions are invoked as `<ARN>:*` (versions); a hook resource has no `*`.
          if (r.includes('<token>')) continue;
          expect(r, `${name} ${s.policy}`).not.toContain('*');
          if (s.actions.includes('lambda:InvokeFunction'))
            expect(r).toBe('arn:aws:lambda:us-east-1:111111111111:function:stop-consumers');
        }
      }
    }
    expect(hookStatements).toBe(2); // failover and failback (scale down and up share one merged statement)
  });

  it('without hooks in the deployment file, the hook states fail and no hook permission exists', () => {
    const { hooks: _h, ...dr } = EXAMPLE.dr[0];
    const t = Template.fromStack(build({ ...EXAMPLE, dr: [dr] }).dr[0]!);
    for (const s of statementsOf(t)) {
      expect(s.actions.map((a) => a.toLowerCase())).not.toContain('ecs:updateservice');
      for (const r of s.resources)
        if (s.actions.includes('lambda:InvokeFunction')) expect(r).toContain('<token>');
    }
    const machine = Object.values(t.findResources('AWS::StepFunctions::StateMachine'))[0] as Json;
    expect(JSON.stringify(machine.Properties.DefinitionString)).toContain('HookNotAllowed');
  });

  it('state machines log without execution data, into log groups under the stack key; the alarm topic is encrypted', () => {
    for (const { name, template } of templates) {
      const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as Json[];
      expect(machines.length, name).toBeGreaterThan(0);
      for (const m of machines)
        expect(m.Properties.LoggingConfiguration.IncludeExecutionData, name).toBe(false);
      for (const [id, g] of Object.entries(template.findResources('AWS::Logs::LogGroup')) as [string, Json][])
        expect(g.Properties.KmsKeyId, `${name} ${id}`).toBeDefined();
      for (const topic of Object.values(template.findResources('AWS::SNS::Topic')) as Json[])
        expect(topic.Properties.KmsMasterKeyId, name).toBeDefined();
      const keyPolicies = (Object.values(template.findResources('AWS::KMS::Key')) as Json[]).map((k) =>
        JSON.stringify(k.Properties.KeyPolicy),
      );
      expect(
        keyPolicies.some((p) => p.includes('logs.') && p.includes('cloudwatch.amazonaws.com')),
        name,
      ).toBe(true);
    }
  });

  it('logExecutionData turns execution data on', () => {
    const t = Template.fromStack(build({ ...EXAMPLE, workflows: { logExecutionData: true } }).primary);
    for (const m of Object.values(t.findResources('AWS::StepFunctions::StateMachine')) as Json[])
      expect(m.Properties.LoggingConfiguration.IncludeExecutionData).toBe(true);
  });

  it('tells every step which Kafka clusters and which bucket its configs may name, and the config variables', () => {
    const dr = templates.find((t) => t.stack === stacks.dr[0])!.template;
    const fns = Object.entries(dr.findResources('AWS::Lambda::Function') as Record<string, Json>).filter(
      ([id]) => id.startsWith('WorkflowFunctions'),
    );
    expect(fns.length).toBe(13);
    for (const [, fn] of fns) {
      const env = fn.Properties.Environment.Variables;
      const policy = JSON.parse(flat(env[STEP_ENV.workflowPolicy]).replaceAll('<token>', 'X'));
      expect(policy.kafka_clusters).toEqual([
        ['kafka-0.us-east-1.example.com:9092'],
        ['kafka-0.us-west-2.example.com:9092'],
        ['kafka-0.us-east-1.example.com:9092', 'kafka-1.us-east-1.example.com:9092'],
      ]);
      expect(policy.storage_endpoints).toEqual([]);
      expect(policy.buckets).toHaveLength(1);
      expect(JSON.parse(env[STEP_ENV.configVariables])).toEqual({ SOURCE_CLUSTER_ID: 'prod-us-west-2' });
    }
  });

  it('Object Lock on the primary and DR buckets: governance, default retention covering the longest backup retention', () => {
    // primary-daily-backup keeps 90 daily backups: 90 days; the hourly one 168 hours = 7 days.
    for (const stack of [stacks.primary, stacks.dr[0]!]) {
      const buckets = Object.values(Template.fromStack(stack).findResources('AWS::S3::Bucket')) as Json[];
      const backups = buckets.filter((b) => /^kafka-backups-/.test(b.Properties.BucketName ?? ''));
      expect(backups).toHaveLength(1);
      expect(backups[0].Properties.ObjectLockEnabled).toBe(true);
      expect(backups[0].Properties.ObjectLockConfiguration).toEqual({
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 90 } },
      });
    }
    const compliance = build({ ...EXAMPLE, objectLock: { mode: 'COMPLIANCE', days: 30 } });
    const b = (
      Object.values(Template.fromStack(compliance.primary).findResources('AWS::S3::Bucket')) as Json[]
    ).find((x) => x.Properties.BucketName === 'kafka-backups-primary');
    expect(b.Properties.ObjectLockConfiguration.Rule.DefaultRetention).toEqual({
      Mode: 'COMPLIANCE',
      Days: 30,
    });
    const off = build({ ...EXAMPLE, objectLock: { enabled: false } });
    const o = (
      Object.values(Template.fromStack(off.primary).findResources('AWS::S3::Bucket')) as Json[]
    ).find((x) => x.Properties.BucketName === 'kafka-backups-primary');
    expect(o.Properties.ObjectLockEnabled).toBeUndefined();
  });

  it('HTTPS egress is anywhere by default, only the named endpoints when the deployment says so', () => {
    const egress = (t: Template) => [
      ...(Object.values(t.findResources('AWS::EC2::SecurityGroup')) as Json[]).flatMap((g) =>
        (g.Properties.SecurityGroupEgress ?? []).filter((e: Json) => e.FromPort === 443),
      ),
      ...(Object.values(t.findResources('AWS::EC2::SecurityGroupEgress')) as Json[])
        .map((r) => r.Properties)
        .filter((e: Json) => e.FromPort === 443),
    ];
    expect(egress(templates[0]!.template).map((e: Json) => e.CidrIp)).toEqual(['0.0.0.0/0']);
    const network = {
      ...EXAMPLE.primary.network,
      httpsEgress: { cidrs: ['10.10.0.0/16'], prefixListIds: ['pl-63a5400a'] },
    };
    const t = Template.fromStack(build({ ...EXAMPLE, primary: { ...EXAMPLE.primary, network } }).primary);
    const rules = egress(t);
    expect(rules.map((e: Json) => e.CidrIp ?? e.DestinationPrefixListId)).toEqual([
      '10.10.0.0/16',
      'pl-63a5400a',
    ]);
  });

  it('refuses config variables named like the runtime credentials', () => {
    expect(() =>
      parseDeploymentConfig({ ...EXAMPLE, workflows: { configVariables: { AWS_SECRET_ACCESS_KEY: 'x' } } }),
    ).toThrow(DeploymentConfigError);
    expect(() =>
      parseDeploymentConfig({ ...EXAMPLE, workflows: { configVariables: { AWS_SECRET_ACCESS_KEY: 'x' } } }),
    ).toThrow(/workflows\.configVariables\.AWS_SECRET_ACCESS_KEY/);
  });
});
