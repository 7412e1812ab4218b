import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { type MotoServer, startMotoServer } from '../moto-server.ts';
import { type PolicyStatement, policyAllows } from './assembly.ts';
import type { Credentials } from './lambda-runtime.ts';

/** A request as the S3 server saw it: who (access key), which action it maps to, on what, and the answer. */
export interface S3Call {
  accessKeyId: string;
  action: string;
  resource: string;
  status: number;
}

/**
 * moto's server with its IAM access control on, fronted by a recording proxy: buckets, IAM users (one per role,
 * holding exactly the role's synthesized policy) and their access keys are made while moto lets requests through
 * unchecked (`/moto-api/reset-auth` with Infinity, what INITIAL_NO_AUTH_ACTION_COUNT sets at start), then checking
 * is switched on (reset-auth 0): every later request must be signed by a known key and be allowed by its user's
 * policies. moto matches Action and Resource (wildcards `*` only) and ignores Condition and resource policies.
 * KMS requests (a drill signing its evidence) go through the same proxy: moto checks their action only, the proxy
 * the key against the synthesized policy.
 */
export class IamS3 {
  readonly calls: S3Call[] = [];
  readonly #moto: MotoServer;
  readonly #proxy: Server;
  readonly endpoint: string;
  readonly #owners = new Map<string, string>();
  /** Each access key's statements as synthesized (what deletes are checked against here, key by key). */
  readonly #policies = new Map<string, PolicyStatement[]>();
  /** KMS keys made here, by key id: IAM authorizes a call by the key's ARN whichever form the caller named. */
  readonly #kmsKeys = new Map<string, string>();

  private constructor(moto: MotoServer, proxy: Server) {
    this.#moto = moto;
    this.#proxy = proxy;
    this.endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  }

  static async start(): Promise<IamS3> {
    const moto = await startMotoServer();
    const target = new URL(moto.endpoint);
    let self: IamS3 | undefined;
    const proxy = createServer(async (req, res) => {
      // Deletes are checked here, key by key as S3 does: moto checks a multi-object delete against the bucket as a
      // whole, so its users get delete on whole buckets (see #motoStatements) and this is the real check.
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      // KMS (JSON protocol, the operation in X-Amz-Target): moto checks the action only (against resource "*"),
      // so the key is checked here against the synthesized policy, as KMS checks it.
      const kms = self?.kmsCall(req.headers, body);
      if (kms) {
        const allowed = self!.kmsAllowed(kms, String(req.headers.authorization ?? ''));
        if (!allowed) {
          self!.calls.push({ ...kms, status: 403 });
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(
            JSON.stringify({
              __type: 'AccessDeniedException',
              message: `User is not authorized to perform: ${kms.action} on resource: ${kms.resource}`,
            }),
          );
          return;
        }
      }
      const deleted = self?.deletedObjects(req.method ?? 'GET', req.url ?? '/', body) ?? [];
      const refused = self?.refusedDelete(deleted, String(req.headers.authorization ?? ''));
      if (refused) {
        self?.record(req.method ?? 'GET', req.url ?? '/', String(req.headers.authorization ?? ''), 403, [
          refused,
        ]);
        res.writeHead(403, { 'content-type': 'application/xml' });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><Resource>${refused}</Resource></Error>`,
        );
        return;
      }
      const up = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          if (kms) self?.calls.push({ ...kms, status: r.statusCode ?? 0 });
          else
            self?.record(
              req.method ?? 'GET',
              req.url ?? '/',
              String(req.headers.authorization ?? ''),
              r.statusCode ?? 0,
              deleted,
            );
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', (e) => {
        res.writeHead(502);
        res.end(String(e));
      });
      up.end(body);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    self = new IamS3(moto, proxy);
    return self;
  }

  /** Who owns an access key (a role name), for the report. */
  ownerOf(accessKeyId: string): string | undefined {
    return this.#owners.get(accessKeyId);
  }

  /** A KMS request as a call (action kms:<Operation>, resource the key named), or undefined for anything else. */
  kmsCall(
    headers: Record<string, string | string[] | undefined>,
    body: Buffer,
  ): Omit<S3Call, 'status'> | undefined {
    const target = String(headers['x-amz-target'] ?? '');
    if (!target.startsWith('TrentService.')) return undefined;
    const key = /Credential=([^/]+)\//.exec(String(headers['authorization'] ?? ''))?.[1] ?? '';
    let keyId = '*';
    try {
      keyId = String((JSON.parse(body.toString('utf8')) as { KeyId?: string }).KeyId ?? '*');
    } catch {
      // no JSON body
    }
    return {
      accessKeyId: key,
      action: `kms:${target.slice('TrentService.'.length)}`,
      resource: this.#kmsKeys.get(keyId) ?? keyId,
    };
  }

  /** Whether the key's synthesized policy allows a KMS call (keys made by the test itself: always). */
  kmsAllowed(call: Omit<S3Call, 'status'>, authorization: string): boolean {
    const statements = this.#policies.get(/Credential=([^/]+)\//.exec(authorization)?.[1] ?? '');
    return !statements || policyAllows(statements, call.action, call.resource);
  }

  /** A KMS key in moto (call while open), e.g. the stand-in for a stack's evidence key. */
  async kmsKey(region: string, spec: { KeyUsage: string; KeySpec: string }): Promise<string> {
    const r = await fetch(this.#moto.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'TrentService.CreateKey',
        authorization: `AWS4-HMAC-SHA256 Credential=AKIASETUP/20260101/${region}/kms/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: JSON.stringify(spec),
    });
    if (!r.ok) throw new Error(`moto KMS CreateKey: ${r.status} ${await r.text()}`);
    const { KeyId, Arn } = ((await r.json()) as { KeyMetadata: { KeyId: string; Arn: string } }).KeyMetadata;
    this.#kmsKeys.set(KeyId, Arn);
    this.#kmsKeys.set(Arn, Arn);
    return Arn;
  }

  /** The object ARNs a delete request names (a multi-object delete names them in its body). */
  deletedObjects(method: string, url: string, body: Buffer): string[] {
    const u = new URL(url, 'http://x');
    const [, bucket = '', ...rest] = u.pathname.split('/');
    let keys: string[] = [];
    if (method === 'POST' && u.searchParams.has('delete'))
      keys = [...body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => unescapeXml(m[1]!));
    else if (method === 'DELETE' && rest.length > 0 && !u.searchParams.has('uploadId'))
      keys = [decodeURIComponent(rest.join('/'))];
    return keys.map((k) => `arn:aws:s3:::${bucket}/${k}`);
  }

  /** The first object a delete request names that its key's synthesized policy does not allow, if any. */
  refusedDelete(objects: string[], authorization: string): string | undefined {
    const statements = this.#policies.get(/Credential=([^/]+)\//.exec(authorization)?.[1] ?? '');
    if (!statements) return undefined;
    return objects.find((arn) => !policyAllows(statements, 's3:DeleteObject', arn));
  }

  private record(method: string, url: string, authorization: string, status: number, objects: string[] = []) {
    const key = /Credential=([^/]+)\//.exec(authorization)?.[1] ?? '';
    const u = new URL(url, 'http://x');
    const [, bucket = '', ...rest] = u.pathname.split('/');
    const object = decodeURIComponent(rest.join('/'));
    const q = u.searchParams;
    let action = `unknown:${method}`;
    if (!object) {
      if (method === 'GET' && (q.has('list-type') || [...q.keys()].length === 0)) action = 's3:ListBucket';
      else if (method === 'GET' && q.has('versions')) action = 's3:ListBucketVersions';
      else if (method === 'POST' && q.has('delete')) action = 's3:DeleteObject';
      else if (method === 'GET' || method === 'HEAD') action = `s3:GetBucket(${[...q.keys()].join(',')})`;
    } else if (method === 'GET' || method === 'HEAD')
      action = q.has('versionId') ? 's3:GetObjectVersion' : 's3:GetObject';
    else if (method === 'PUT' || (method === 'POST' && (q.has('uploads') || q.has('uploadId'))))
      action = 's3:PutObject';
    else if (method === 'DELETE') action = q.has('uploadId') ? 's3:AbortMultipartUpload' : 's3:DeleteObject';
    // A multi-object delete names its keys in the body: one call per object, as S3 authorizes it.
    const resources =
      action === 's3:DeleteObject' && objects.length > 0
        ? objects
        : [`arn:aws:s3:::${bucket}${object ? `/${object}` : ''}`];
    for (const resource of resources) this.calls.push({ accessKeyId: key, action, resource, status });
  }

  /** Lets every request through unchecked (true) or checks each against IAM (false). */
  async open(open: boolean): Promise<void> {
    const r = await fetch(`${this.#moto.endpoint}/moto-api/reset-auth`, {
      method: 'POST',
      body: open ? 'Infinity' : '0',
    });
    if (!r.ok) throw new Error(`moto reset-auth: ${r.status} ${await r.text()}`);
  }

  async #iam(params: Record<string, string>): Promise<string> {
    const r = await fetch(this.#moto.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIASETUP/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`moto IAM ${params['Action']}: ${r.status} ${text}`);
    return text;
  }

  /** A user holding exactly `statements` (call while open). */
  async user(name: string, statements: PolicyStatement[]): Promise<Credentials> {
    await this.#iam({ Action: 'CreateUser', UserName: name });
    if (statements.length > 0)
      await this.#iam({
        Action: 'PutUserPolicy',
        UserName: name,
        PolicyName: 'role-policy',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: motoStatements(statements) }),
      });
    const xml = await this.#iam({ Action: 'CreateAccessKey', UserName: name });
    const credentials = {
      accessKeyId: /<AccessKeyId>([^<]+)</.exec(xml)![1]!,
      secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(xml)![1]!,
    };
    this.#owners.set(credentials.accessKeyId, name);
    this.#policies.set(credentials.accessKeyId, statements);
    return credentials;
  }

  /** Versioned buckets (call while open). */
  async buckets(buckets: { name: string; region: string }[]): Promise<void> {
    for (const b of buckets) {
      const s3 = new S3Client({
        region: b.region,
        endpoint: this.#moto.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'setup', secretAccessKey: 'setup' },
      });
      await s3.send(
        new CreateBucketCommand({
          Bucket: b.name,
          ...(b.region === 'us-east-1'
            ? {}
            : { CreateBucketConfiguration: { LocationConstraint: b.region as never } }),
        }),
      );
      await s3.send(
        new PutBucketVersioningCommand({ Bucket: b.name, VersioningConfiguration: { Status: 'Enabled' } }),
      );
      s3.destroy();
    }
  }

  log(): string {
    return this.#moto.log();
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#proxy.close(() => resolve()));
    this.#proxy.closeAllConnections();
    await this.#moto.stop();
  }
}

/** A plain moto server (no access control) holding Secrets Manager secrets in the given regions. */
export async function startSecretsServer(
  secrets: { name: string; regions: string[]; value: unknown }[],
): Promise<MotoServer> {
  const moto = await startMotoServer();
  for (const s of secrets)
    for (const region of s.regions) {
      const r = await fetch(moto.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'secretsmanager.CreateSecret',
          authorization: `AWS4-HMAC-SHA256 Credential=AKIASETUP/20260101/${region}/secretsmanager/aws4_request, SignedHeaders=host, Signature=0`,
        },
        body: JSON.stringify({ Name: s.name, SecretString: JSON.stringify(s.value) }),
      });
      if (!r.ok) throw new Error(`moto CreateSecret: ${r.status} ${await r.text()}`);
    }
  return moto;
}

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/**
 * The statements as moto's user policy: a statement that may delete objects of a bucket may delete any of them
 * there (moto evaluates a multi-object delete against the bucket's objects as a whole); the proxy checks each key
 * against the statements as synthesized before moto sees the request.
 */
function motoStatements(statements: PolicyStatement[]): PolicyStatement[] {
  return statements.map((st) => {
    const actions = Array.isArray(st.Action) ? st.Action : [st.Action];
    // moto authorizes KMS calls against the resource "*" only; the proxy checks the key (kmsAllowed).
    if (actions.some((a) => /^kms:/.test(a))) return { ...st, Resource: '*' };
    if (!actions.some((a) => /^s3:DeleteObject/.test(a))) return st;
    const resources = (Array.isArray(st.Resource) ? st.Resource : [st.Resource]) as string[];
    const buckets = new Set(
      resources
        .filter((r) => typeof r === 'string' && r.startsWith('arn:aws:s3:::'))
        .map((r) => r.slice(13).split('/')[0]!),
    );
    return {
      ...st,
      Resource: [...resources, ...[...buckets].flatMap((b) => [`arn:aws:s3:::${b}`, `arn:aws:s3:::${b}/*`])],
    };
  });
}
