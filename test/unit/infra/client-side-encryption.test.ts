import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildKafkaBackupApp, type KafkaBackupStacks } from '../../../lib/infra/app.ts';
import { DeploymentConfigError, parseDeploymentConfig } from '../../../lib/infra/deployment-config.ts';
import { STEP_S3_ACCESS } from '../../../lib/infra/workflows/functions.ts';
import { DRILL_STEP_NAMES, STEP_ENV, STEP_NAMES, type StepName } from '../../../lib/workflow/names.ts';

// biome-ignore lint/suspicious/noExplicitAny: synthesized CloudFormation, walked freely
type Json = any;

const EXAMPLE = JSON.parse(readFileSync('deploy/deployment.example.json', 'utf8'));
const CONTEXT = { ...JSON.parse(readFileSync('cdk.json', 'utf8')).context, 'aws:cdk:bundling-stacks': [] };
const SYNTH_TIMEOUT = 180_000;
const REGIONS = ['us-west-2', 'us-east-1', 'eu-west-1', 'ap-southeast-1'];

function build(data: unknown): KafkaBackupStacks {
  return buildKafkaBackupApp(new App({ context: CONTEXT }), parseDeploymentConfig(data));
}

/** Strings with the tokens CDK puts in ARNs spelt out (`${AWS::Partition}` is aws here). */
function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v['Ref'] === 'AWS::Partition') return 'aws';
  if ('Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(flat).join(sep);
  }
  if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  return '<token>';
}
const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

interface KmsStatement {
  policy: string;
  actions: string[];
  resources: string[];
  conditions: Json;
}

/** Every Allow statement with a kms: action, by policy logical id. */
function kmsStatements(template: Template): KmsStatement[] {
  const out: KmsStatement[] = [];
  for (const [id, p] of Object.entries(template.findResources('AWS::IAM::Policy') as Record<string, Json>))
    for (const s of p.Properties.PolicyDocument.Statement) {
      const actions = list(s.Action) as string[];
      if (s.Effect !== 'Allow' || !actions.some((a) => a.startsWith('kms:'))) continue;
      out.push({ policy: id, actions, resources: list(s.Resource).map(flat), conditions: s.Condition });
    }
  return out;
}

const pascal = (step: string) =>
  step
    .split('-')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

/** The logical-id prefix of a step's function: every stack's WorkflowFunctions, or the DR stack's drill. */
const functionsOf = (step: string) =>
  `${(DRILL_STEP_NAMES as readonly string[]).includes(step) ? 'DrillWorkflowFunctions' : 'WorkflowFunctions'}${pascal(step)}`;
/** The steps a stack has functions for: the drill's only in a DR stack. */
const stepsOf = (stacks: KafkaBackupStacks, stack: unknown): StepName[] =>
  STEP_NAMES.filter(
    (s) => stacks.dr.includes(stack as never) || !(DRILL_STEP_NAMES as readonly string[]).includes(s),
  );

function policyEnv(template: Template, step: string): Json {
  const fn = Object.entries(template.findResources('AWS::Lambda::Function') as Record<string, Json>).find(
    ([id]) => id.startsWith(functionsOf(step)),
  )![1];
  return JSON.parse(flat(fn.Properties.Environment.Variables[STEP_ENV.workflowPolicy]));
}

describe('client-side encryption in the deployment (clientSideEncryption)', {
  timeout: SYNTH_TIMEOUT,
}, () => {
  let stacks: KafkaBackupStacks;
  let off: KafkaBackupStacks;
  beforeAll(() => {
    stacks = build({ ...EXAMPLE, clientSideEncryption: { enabled: true } });
    off = build(EXAMPLE);
  }, SYNTH_TIMEOUT);

  it('each region creates its key: alias/<namePrefix>-client-side, rotated, kept when the stack goes', () => {
    for (const stack of stacks.all) {
      const t = Template.fromStack(stack);
      const aliases = Object.values(t.findResources('AWS::KMS::Alias')) as Json[];
      const alias = aliases.find((a) => a.Properties.AliasName === 'alias/kafka-backup-client-side');
      expect(alias, stack.stackName).toBeDefined();
      const keyId = alias.Properties.TargetKeyId['Fn::GetAtt'][0];
      const key = t.findResources('AWS::KMS::Key')[keyId] as Json;
      expect(key.Properties.EnableKeyRotation).toBe(true);
      expect(key.DeletionPolicy).toBe('Retain');
    }
    for (const stack of off.all) {
      const aliases = Object.values(Template.fromStack(stack).findResources('AWS::KMS::Alias')) as Json[];
      expect(aliases.map((a) => a.Properties.AliasName)).not.toContain('alias/kafka-backup-client-side');
    }
  });

  it('tells every step its region key and the other regions keys (the workflow policy); nothing when off', () => {
    for (const stack of stacks.all) {
      const t = Template.fromStack(stack);
      for (const step of stepsOf(stacks, stack)) {
        const policy = policyEnv(t, step);
        expect(policy.encryption, `${stack.stackName} ${step}`).toEqual({
          kms_key_id: `arn:aws:kms:${stack.region}:111111111111:alias/kafka-backup-client-side`,
          additional_kms_key_ids: REGIONS.filter((r) => r !== stack.region).map(
            (r) => `arn:aws:kms:${r}:111111111111:alias/kafka-backup-client-side`,
          ),
        });
      }
    }
    expect(policyEnv(Template.fromStack(off.primary), 'backup-plan').encryption).toBeUndefined();
  });

  it('readers get kms:Decrypt only; writers kms:GenerateDataKey on their region key and kms:Encrypt on the others by alias; no other KMS right on it', () => {
    for (const stack of stacks.all) {
      const t = Template.fromStack(stack);
      const keyLogicalId = Object.entries(t.findResources('AWS::KMS::Alias') as Record<string, Json>).find(
        ([, a]) => a.Properties.AliasName === 'alias/kafka-backup-client-side',
      )![1].Properties.TargetKeyId['Fn::GetAtt'][0];
      const ownKey = `<${keyLogicalId}.Arn>`;
      const statements = kmsStatements(t);
      const restoreOnly = stacks.restoreTargets.includes(stack as never);
      for (const step of stepsOf(stacks, stack)) {
        const mine = statements.filter((s) => s.policy.startsWith(functionsOf(step)));
        const puts = STEP_S3_ACCESS[step].put.filter((p) => !restoreOnly || p.startsWith('*restores/'));
        const onOwn = mine.filter((s) => s.resources.includes(ownKey));
        const where = `${stack.stackName} ${step}`;
        expect(onOwn.flatMap((s) => s.actions).sort(), where).toEqual(
          puts.length > 0 ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
        );
        const encrypt = mine.filter((s) => s.actions.includes('kms:Encrypt'));
        if (puts.length === 0) {
          expect(encrypt, where).toEqual([]);
          continue;
        }
        expect(encrypt, where).toHaveLength(1);
        expect(encrypt[0]!.actions).toEqual(['kms:Encrypt']);
        expect(encrypt[0]!.resources.sort()).toEqual(
          REGIONS.filter((r) => r !== stack.region)
            .map((r) => `arn:aws:kms:${r}:111111111111:key/*`)
            .sort(),
        );
        expect(encrypt[0]!.conditions).toEqual({
          'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/kafka-backup-client-side' },
        });
      }
      // Nobody has more on the client-side key than decrypting and generating data keys.
      for (const s of statements) {
        if (!s.resources.includes(ownKey)) continue;
        for (const a of s.actions)
          expect(['kms:Decrypt', 'kms:GenerateDataKey'], `${s.policy} ${a}`).toContain(a);
      }
    }
  });

  it('the Fargate task writes (backups and restores); the DR readiness function only decrypts, told its key', () => {
    const dr = Template.fromStack(stacks.dr[0]!);
    const statements = kmsStatements(dr);
    const task = statements.filter((s) => s.policy.startsWith('WorkflowFunctionsTaskTaskRole'));
    expect(task.flatMap((s) => s.actions).sort()).toEqual([
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey',
    ]);
    // Decrypting with the client-side key; besides, only the drill's evidence key, to verify signatures.
    const readiness = statements.filter((s) => s.policy.startsWith('DrReadiness'));
    const evidenceKey = `<${dr.toJSON().Outputs.EvidenceKeyArn.Value['Fn::GetAtt'][0]}.Arn>`;
    expect(readiness.filter((s) => !s.resources.includes(evidenceKey)).flatMap((s) => s.actions)).toEqual([
      'kms:Decrypt',
    ]);
    expect(readiness.filter((s) => s.resources.includes(evidenceKey)).flatMap((s) => s.actions)).toEqual([
      'kms:GetPublicKey',
    ]);
    const fn = Object.entries(dr.findResources('AWS::Lambda::Function') as Record<string, Json>).find(
      ([id]) => id.startsWith('DrReadiness'),
    )![1];
    const targets = JSON.parse(flat(fn.Properties.Environment.Variables.DR_READINESS_TARGETS));
    expect(targets.length).toBeGreaterThan(0);
    const drill = JSON.parse(flat(fn.Properties.Environment.Variables.DR_READINESS_DRILL_EVIDENCE));
    for (const target of [...targets, drill])
      expect(target.encryption).toEqual({
        kms_key_id: 'arn:aws:kms:us-east-1:111111111111:alias/kafka-backup-client-side',
      });
  });

  it('given replicas of one multi-Region key: exactly those keys, one wrap, no kms:Encrypt, no key created', () => {
    const mrk = 'mrk-0123456789abcdef0123456789abcdef';
    const kmsKeyArns = Object.fromEntries(
      REGIONS.map((r) => [r, `arn:aws:kms:${r}:111111111111:key/${mrk}`]),
    );
    const given = build({ ...EXAMPLE, clientSideEncryption: { enabled: true, kmsKeyArns } });
    for (const stack of given.all) {
      const t = Template.fromStack(stack);
      const aliases = (Object.values(t.findResources('AWS::KMS::Alias')) as Json[]).map(
        (a) => a.Properties.AliasName,
      );
      expect(aliases).not.toContain('alias/kafka-backup-client-side');
      expect(policyEnv(t, 'backup-partition').encryption).toEqual({
        kms_key_id: kmsKeyArns[stack.region],
        additional_kms_key_ids: [],
      });
      for (const s of kmsStatements(t).filter((x) => x.policy.startsWith('WorkflowFunctions'))) {
        expect(s.actions).not.toContain('kms:Encrypt');
        if (s.actions.includes('kms:GenerateDataKey') || s.resources.some((r) => r.includes(mrk)))
          expect(s.resources, s.policy).toEqual([kmsKeyArns[stack.region]]);
      }
    }
    // Independent keys: the writers wrap for the others' ARNs.
    const independent = Object.fromEntries(
      REGIONS.map((r, i) => [r, `arn:aws:kms:${r}:111111111111:key/0000000${i}-1111-2222-3333-444444444444`]),
    );
    const p = build({ ...EXAMPLE, clientSideEncryption: { enabled: true, kmsKeyArns: independent } }).primary;
    const encrypt = kmsStatements(Template.fromStack(p)).filter(
      (s) => s.policy.startsWith('WorkflowFunctionsBackupPartition') && s.actions.includes('kms:Encrypt'),
    );
    expect(encrypt.flatMap((s) => s.resources).sort()).toEqual(
      REGIONS.filter((r) => r !== 'us-west-2')
        .map((r) => independent[r])
        .sort(),
    );
  });

  it('refuses given keys that miss a region, sit in another region, or come without enabled', () => {
    const some = {
      'us-west-2': 'arn:aws:kms:us-west-2:111111111111:key/00000000-1111-2222-3333-444444444444',
    };
    const problems = (cse: unknown) => {
      try {
        parseDeploymentConfig({ ...EXAMPLE, clientSideEncryption: cse });
      } catch (e) {
        expect(e).toBeInstanceOf(DeploymentConfigError);
        return (e as Error).message;
      }
      throw new Error('expected a DeploymentConfigError');
    };
    expect(problems({ enabled: true, kmsKeyArns: some })).toContain(
      'clientSideEncryption.kmsKeyArns: needs a key for us-east-1: every region reads (and writes) with its own key',
    );
    expect(problems({ enabled: true, kmsKeyArns: { ...some, 'us-east-1': some['us-west-2'] } })).toContain(
      'clientSideEncryption.kmsKeyArns.us-east-1: is a key of us-west-2, not us-east-1',
    );
    expect(problems({ kmsKeyArns: some })).toContain(
      'clientSideEncryption.kmsKeyArns: only used with enabled: true',
    );
    expect(problems({ enabled: true, kmsKeyArn: 'x' })).toContain(
      'clientSideEncryption.kmsKeyArn: unknown field',
    );
  });
});
