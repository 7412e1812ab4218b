import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { type DeploymentConfig, deploymentRegions } from '../deployment-config.ts';

/** Alias of each region's stack-created client-side encryption key: deterministic, so other regions can name it. */
export function clientSideKeyAlias(deployment: DeploymentConfig): string {
  return `alias/${deployment.namePrefix}-client-side`;
}

/** What the functions of a region need to encrypt with the deployment's keys (lib/workflow/policy.ts `encryption`). */
export interface ClientSideEncryptionGrants {
  /** The `encryption` of the workflow policy: this region's key, and the others' for wrapping. */
  readonly policy: { kms_key_id: string; additional_kms_key_ids: string[] };
  /**
   * Readers get kms:Decrypt on this region's key; writers also kms:GenerateDataKey on it and kms:Encrypt on the
   * other regions' keys (each data key is wrapped for every region). Nothing else, on no other key.
   */
  grant(grantee: iam.IGrantable, writes: boolean): void;
}

/**
 * The client-side encryption keys of one region's stack (clientSideEncryption in the deployment file): this
 * region's key, created here (alias/<namePrefix>-client-side) or given (kmsKeyArns), and how to name the other
 * regions' keys. With given keys that are replicas of one multi-Region key (same `mrk-` id), no extra wrapping is
 * needed: any replica decrypts what another encrypted, and writers do not depend on the other regions' KMS.
 */
export class ClientSideKeys extends Construct implements ClientSideEncryptionGrants {
  /** This region's key when the stack creates it. */
  readonly key: kms.Key | undefined;
  readonly policy: { kms_key_id: string; additional_kms_key_ids: string[] };
  /** IAM resources (and their condition) of this region's key, and of the keys wrapped for. */
  readonly #own: KeyResources;
  readonly #others: KeyResources | undefined;

  constructor(scope: Construct, id: string, props: { deployment: DeploymentConfig }) {
    super(scope, id);
    const d = props.deployment;
    const stack = Stack.of(this);
    const region = stack.region;
    const given = d.clientSideEncryption.kmsKeyArns;
    const others = deploymentRegions(d).filter((r) => r !== region);
    if (given) {
      const own = given[region]!;
      const mrk = (arn: string) => /:key\/(mrk-[0-9a-f]+)$/.exec(arn)?.[1];
      // Keys that are not replicas of this region's multi-Region key must each get a wrapped copy.
      const wrapFor = others
        .map((r) => given[r]!)
        .filter((arn) => mrk(arn) === undefined || mrk(arn) !== mrk(own));
      this.key = undefined;
      this.policy = { kms_key_id: own, additional_kms_key_ids: [...new Set(wrapFor)] };
      this.#own = { resources: [own] };
      this.#others = wrapFor.length > 0 ? { resources: [...new Set(wrapFor)] } : undefined;
    } else {
      const alias = clientSideKeyAlias(d);
      this.key = new kms.Key(this, 'Key', {
        alias,
        description: `kafka-backup: client-side encryption of the backups (data keys of every object written in ${region})`,
        enableKeyRotation: true,
        // Deleting the stack must not make every backup unreadable.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const aliasArn = (r: string) => `arn:${stack.partition}:kms:${r}:${stack.account}:${alias}`;
      this.policy = { kms_key_id: aliasArn(region), additional_kms_key_ids: others.map(aliasArn) };
      this.#own = { resources: [this.key.keyArn] };
      this.#others =
        others.length > 0
          ? {
              // The other regions' keys by their alias: their ARNs are random and live in other stacks.
              resources: others.map((r) => `arn:${stack.partition}:kms:${r}:${stack.account}:key/*`),
              conditions: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': alias } },
            }
          : undefined;
    }
  }

  grant(grantee: iam.IGrantable, writes: boolean): void {
    const principal = grantee.grantPrincipal;
    principal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: writes ? ['kms:Decrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'],
        resources: this.#own.resources,
        ...(this.#own.conditions ? { conditions: this.#own.conditions } : {}),
      }),
    );
    if (writes && this.#others)
      principal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Encrypt'],
          resources: this.#others.resources,
          ...(this.#others.conditions ? { conditions: this.#others.conditions } : {}),
        }),
      );
  }
}

interface KeyResources {
  resources: string[];
  conditions?: Record<string, Record<string, string>>;
}
