import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../cli.ts';

export interface DeploymentAllowances {
  kafkaServers: string[][];
  /** workflows.storageEndpoints: the test's S3 server. */
  storageEndpoints: string[];
}

/**
 * The example deployment with the test's Kafka clusters added to every region's `kafkaClusters` and its S3 server
 * as the one storage endpoint, as a user lists their own clusters and VPC endpoint there: the workflows merge the
 * Kafka secret only into configs of the clusters it names, and refuse any other storage.endpoint.
 */
export function exampleDeploymentWith(allow: DeploymentAllowances, path: string): string {
  const deployment = JSON.parse(
    readFileSync(join(REPO_ROOT, 'deploy', 'deployment.example.json'), 'utf8'),
  ) as {
    workflows?: Json;
    primary: Json;
    dr: Json[];
    restoreTargets?: Json[];
  };
  deployment.workflows = { ...deployment.workflows, storageEndpoints: allow.storageEndpoints };
  const clusters = allow.kafkaServers.map((bootstrapServers) => ({ bootstrapServers }));
  for (const region of [deployment.primary, ...deployment.dr, ...(deployment.restoreTargets ?? [])]) {
    region['kafkaClusters'] = [...((region['kafkaClusters'] as unknown[] | undefined) ?? []), ...clusters];
  }
  writeFileSync(path, JSON.stringify(deployment, null, 2));
  return path;
}

/**
 * The example deployment (deploy/deployment.example.json, with the test's clusters and endpoint allowed) as
 * `cdk synth` writes it, bundling on: `bin/cdk-app.ts` run the way the CDK CLI runs an app (CDK_OUTDIR,
 * CDK_CONTEXT_JSON with cdk.json's context), into a folder of this run. The functions are bundled by the local
 * esbuild.
 */
export async function synthExampleDeployment(
  outdir: string,
  allow: DeploymentAllowances,
): Promise<{ ms: number }> {
  const deploymentFile = exampleDeploymentWith(allow, join(dirname(outdir), 'deployment.json'));
  const context = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')).context ?? {};
  const started = Date.now();
  const out: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'cdk-app.ts')], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        CDK_OUTDIR: outdir,
        CDK_CONTEXT_JSON: JSON.stringify(context),
        KAFKA_BACKUP_DEPLOYMENT: deploymentFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => out.push(String(d)));
    child.stderr.on('data', (d) => out.push(String(d)));
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`bin/cdk-app.ts exited with ${code}:\n${out.join('').slice(-4000)}`);
  return { ms: Date.now() - started };
}

type Json = Record<string, unknown>;

export interface DeployedFunction {
  stack: string;
  logicalId: string;
  /** e.g. index.backupPlan */
  handler: string;
  runtime: string;
  timeoutS: number;
  memoryMb: number;
  environment: Record<string, string>;
  /** The asset folder in the cloud assembly (what is zipped and uploaded). */
  assetDir: string;
  roleId: string;
}

export interface DeployedTask {
  stack: string;
  logicalId: string;
  containerName: string;
  entryPoint: string[];
  command: string[];
  environment: Record<string, string>;
  taskRoleId: string;
  /** The Docker build context asset folder. */
  assetDir: string | undefined;
}

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: unknown;
}

/** A synthesized stack's template with CloudFormation tokens resolved to the values they take when deployed. */
export class DeployedStack {
  readonly resources: Record<string, { Type: string; Properties?: Json }>;
  readonly name: string;
  readonly region: string;
  readonly account: string;
  readonly outdir: string;
  /** Physical values of resources the test made itself (e.g. a KMS key in moto), by logical id. */
  readonly #bound = new Map<string, { arn: string; ref?: string }>();

  constructor(name: string, region: string, account: string, template: Json, outdir: string) {
    this.name = name;
    this.region = region;
    this.account = account;
    this.outdir = outdir;
    this.resources = template['Resources'] as DeployedStack['resources'];
  }

  /** What `Fn::GetAtt [id, Arn]` (and `Ref id`) resolve to: a resource the test made in its place. */
  bind(logicalId: string, value: { arn: string; ref?: string }): void {
    if (!this.resources[logicalId]) throw new Error(`${this.name}: no resource ${logicalId} to bind`);
    this.#bound.set(logicalId, value);
  }

  /** Refs and attributes resolved the way CloudFormation resolves them for the kinds the steps read. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (typeof value !== 'object' || value === null) return value;
    const o = value as Json;
    if ('Fn::Join' in o) {
      const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
      return parts.map((p) => String(this.resolve(p))).join(sep);
    }
    if ('Ref' in o) {
      const ref = o['Ref'] as string;
      const pseudo: Record<string, string> = {
        'AWS::Partition': 'aws',
        'AWS::Region': this.region,
        'AWS::AccountId': this.account,
        'AWS::URLSuffix': 'amazonaws.com',
      };
      if (pseudo[ref]) return pseudo[ref];
      const bound = this.#bound.get(ref);
      if (bound) return bound.ref ?? bound.arn;
      const r = this.resources[ref];
      if (r?.Type === 'AWS::S3::Bucket' && r.Properties?.['BucketName']) return r.Properties['BucketName'];
      return `unresolved:Ref:${ref}`;
    }
    if ('Fn::GetAtt' in o) {
      const [id, attr] = o['Fn::GetAtt'] as [string, string];
      const bound = this.#bound.get(id);
      if (bound && attr === 'Arn') return bound.arn;
      const r = this.resources[id];
      if (r?.Type === 'AWS::S3::Bucket' && attr === 'Arn' && r.Properties?.['BucketName'])
        return `arn:aws:s3:::${r.Properties['BucketName']}`;
      return `unresolved:GetAtt:${id}.${attr}`;
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, this.resolve(v)]));
  }

  ofType(type: string): [string, Json][] {
    return Object.entries(this.resources)
      .filter(([, r]) => r.Type === type)
      .map(([id, r]) => [id, r.Properties ?? {}]);
  }

  /** The state machine whose logical id starts with `prefix`: its DefinitionString as the template holds it. */
  definition(prefix: string): unknown {
    const found = this.ofType('AWS::StepFunctions::StateMachine').filter(([id]) => id.startsWith(prefix));
    if (found.length !== 1) throw new Error(`${this.name}: ${found.length} state machines named ${prefix}*`);
    return found[0]![1]['DefinitionString'];
  }

  /** The role of the state machine whose logical id starts with `prefix` (what its ItemReader and ResultWriter use). */
  stateMachineRole(prefix: string): string {
    const found = this.ofType('AWS::StepFunctions::StateMachine').filter(([id]) => id.startsWith(prefix));
    if (found.length !== 1) throw new Error(`${this.name}: ${found.length} state machines named ${prefix}*`);
    return (found[0]![1]['RoleArn'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  }

  lambda(logicalId: string): DeployedFunction {
    const r = this.resources[logicalId];
    if (r?.Type !== 'AWS::Lambda::Function') throw new Error(`${this.name}: ${logicalId} is not a function`);
    const p = r.Properties!;
    const vars = ((p['Environment'] as Json | undefined)?.['Variables'] ?? {}) as Json;
    const code = p['Code'] as { S3Key?: string };
    if (!code.S3Key?.endsWith('.zip')) throw new Error(`${logicalId}: no zip asset`);
    return {
      stack: this.name,
      logicalId,
      handler: p['Handler'] as string,
      runtime: p['Runtime'] as string,
      timeoutS: Number(p['Timeout'] ?? 3),
      memoryMb: Number(p['MemorySize'] ?? 128),
      environment: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(this.resolve(v))])),
      assetDir: join(this.outdir, `asset.${code.S3Key.slice(0, -'.zip'.length)}`),
      roleId: ((p['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'] ?? [])[0]!,
    };
  }

  lambdas(): DeployedFunction[] {
    return this.ofType('AWS::Lambda::Function')
      .filter(([, p]) => (p['Code'] as { S3Key?: string }).S3Key)
      .map(([id]) => this.lambda(id));
  }

  task(): DeployedTask {
    const found = this.ofType('AWS::ECS::TaskDefinition');
    if (found.length !== 1) throw new Error(`${this.name}: ${found.length} task definitions`);
    const [logicalId, p] = found[0]!;
    const c = (p['ContainerDefinitions'] as Json[])[0]!;
    const image = JSON.stringify(c['Image']);
    const hash = /:([0-9a-f]{64})"?/.exec(image)?.[1];
    return {
      stack: this.name,
      logicalId,
      containerName: c['Name'] as string,
      entryPoint: (c['EntryPoint'] as string[]) ?? [],
      command: (c['Command'] as string[]) ?? [],
      environment: Object.fromEntries(
        ((c['Environment'] as { Name: string; Value: unknown }[]) ?? []).map((e) => [
          e.Name,
          String(this.resolve(e.Value)),
        ]),
      ),
      taskRoleId: (p['TaskRoleArn'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0],
      // CDK keeps the source folder's "extension" in the staged name (a checkout named tmp.Ab12 stages as
      // asset.<hash>.Ab12): found by its prefix.
      assetDir: hash
        ? readdirSync(this.outdir)
            .filter((n) => n === `asset.${hash}` || n.startsWith(`asset.${hash}.`))
            .map((n) => join(this.outdir, n))[0]
        : undefined,
    };
  }

  /** Every statement of the inline policies attached to a role (AWS::IAM::Policy resources naming it), resolved. */
  policyOf(roleId: string): PolicyStatement[] {
    const statements: PolicyStatement[] = [];
    for (const [, p] of this.ofType('AWS::IAM::Policy')) {
      const roles = (p['Roles'] as { Ref: string }[]).map((r) => r.Ref);
      if (!roles.includes(roleId)) continue;
      const doc = this.resolve(p['PolicyDocument']) as { Statement: PolicyStatement[] };
      statements.push(...doc.Statement);
    }
    const role = this.resources[roleId]?.Properties ?? {};
    for (const p of (role['Policies'] as { PolicyDocument: Json }[] | undefined) ?? [])
      statements.push(...(this.resolve(p.PolicyDocument) as { Statement: PolicyStatement[] }).Statement);
    return statements;
  }
}

/** The stacks of a cloud assembly folder. */
export function readAssembly(outdir: string): Map<string, DeployedStack> {
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; environment?: string; properties?: { templateFile: string } }>;
  };
  const stacks = new Map<string, DeployedStack>();
  for (const [name, a] of Object.entries(manifest.artifacts)) {
    if (a.type !== 'aws:cloudformation:stack') continue;
    const [, account, region] = /^aws:\/\/([^/]+)\/(.+)$/.exec(a.environment ?? '') ?? [];
    const template = JSON.parse(readFileSync(join(outdir, a.properties!.templateFile), 'utf8')) as Json;
    stacks.set(name, new DeployedStack(name, region!, account!, template, outdir));
  }
  return stacks;
}

/** IAM's string matching: `*` any run of characters, `?` exactly one. */
export function iamMatch(pattern: string, value: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`).test(value);
}

/** Whether the statements allow `action` on `resource` (identity policy evaluation without conditions). */
export function policyAllows(statements: PolicyStatement[], action: string, resource: string): boolean {
  const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);
  const hit = (s: PolicyStatement) =>
    list(s.Action).some((a) => iamMatch(a.toLowerCase(), action.toLowerCase())) &&
    list(s.Resource).some((r) => iamMatch(r, resource));
  if (statements.some((s) => s.Effect === 'Deny' && hit(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && !s.Condition && hit(s));
}
