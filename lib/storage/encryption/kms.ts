import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMSClient,
  type KMSClientConfig,
} from '@aws-sdk/client-kms';
import { ConfigError, StorageAccessError } from '../../errors.ts';
import {
  EncryptionKeyAccessDeniedError,
  EncryptionKeyNotFoundError,
  WrongEncryptionKeyError,
} from './errors.ts';
import { DATA_KEY_LENGTH, MAX_RECIPIENTS, type Recipient, RecipientType, tampered } from './framing.ts';
import { describeRecipients, type KeySource } from './key-source.ts';

export interface KmsKeyOptions {
  /** Key ARN, key id, alias name (`alias/...`) or alias ARN: generates the data keys, and is the one reads use. */
  keyId: string;
  /**
   * Keys the data key is wrapped with as well (KMS Encrypt), typically the same deployment's keys in other regions:
   * a reader holding any one of them (a DR region while the primary region is down) can decrypt.
   */
  additionalKeyIds?: readonly string[];
  /** Region of keys given without an ARN; by default the SDK's (AWS_REGION, profile). */
  region?: string;
  /** A KMS-compatible endpoint (a VPC endpoint, moto in tests). Defaults to AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL. */
  endpoint?: string;
  credentials?: KMSClientConfig['credentials'];
  maxAttempts?: number;
}

/** What a key id says about the key: its region (ARNs), its key id (key ARNs, bare ids) or alias. */
export interface ParsedKmsKeyId {
  region?: string;
  /** A key's id (`1234abcd-...`, or `mrk-...` for a multi-Region key, whose replicas share it). */
  key?: string;
  alias?: string;
}

const KMS_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):\d{12}:(key|alias)\/(.+)$/;

export function parseKmsKeyId(id: string): ParsedKmsKeyId {
  const arn = KMS_ARN.exec(id);
  if (arn) return arn[2] === 'key' ? { region: arn[1]!, key: arn[3]! } : { region: arn[1]!, alias: arn[3]! };
  if (id.startsWith('alias/')) return { alias: id.slice('alias/'.length) };
  return { key: id };
}

/** The encryption context of an object's data key: KMS binds the wrapped key to the object, CloudTrail shows it. */
function contextOf(objectKey: string): Record<string, string> {
  return { 'kafka-backup:object': objectKey };
}

/**
 * Data keys from AWS KMS: GenerateDataKey with `keyId` (AES_256) for each object written, Encrypt with each
 * additional key, Decrypt with `keyId` to read: one request per object written (plus one per additional key), one
 * per object read.
 */
export class KmsKeySource implements KeySource {
  readonly keyId: string;
  readonly #additional: readonly string[];
  readonly #options: KmsKeyOptions;
  readonly #endpoint: string | undefined;
  readonly #clients = new Map<string, KMSClient>();

  constructor(options: KmsKeyOptions) {
    this.keyId = options.keyId;
    this.#additional = options.additionalKeyIds ?? [];
    if (this.#additional.length + 1 > MAX_RECIPIENTS)
      throw new RangeError(`at most ${MAX_RECIPIENTS - 1} additional KMS keys`);
    this.#options = options;
    this.#endpoint =
      options.endpoint ?? process.env['AWS_ENDPOINT_URL_KMS'] ?? process.env['AWS_ENDPOINT_URL'];
  }

  describe(): string {
    return `KMS key ${this.keyId}`;
  }

  async newDataKey(objectKey: string, where: string): Promise<{ dataKey: Buffer; recipients: Recipient[] }> {
    const EncryptionContext = contextOf(objectKey);
    const generated = await this.#call(this.keyId, 'GenerateDataKey', where, (client) =>
      client.send(new GenerateDataKeyCommand({ KeyId: this.keyId, KeySpec: 'AES_256', EncryptionContext })),
    );
    const plain = generated.Plaintext;
    if (!plain || plain.length !== DATA_KEY_LENGTH || !generated.CiphertextBlob)
      throw new Error(`KMS GenerateDataKey with ${this.keyId} returned no 32-byte data key`);
    const dataKey = Buffer.from(plain);
    plain.fill(0);
    const recipients: Recipient[] = [
      {
        type: RecipientType.awsKms,
        keyId: generated.KeyId ?? this.keyId,
        wrappedKey: Buffer.from(generated.CiphertextBlob),
      },
    ];
    for (const keyId of this.#additional) {
      const wrapped = await this.#call(keyId, 'Encrypt', where, (client) =>
        client.send(new EncryptCommand({ KeyId: keyId, Plaintext: dataKey, EncryptionContext })),
      );
      if (!wrapped.CiphertextBlob) throw new Error(`KMS Encrypt with ${keyId} returned no ciphertext`);
      recipients.push({
        type: RecipientType.awsKms,
        keyId: wrapped.KeyId ?? keyId,
        wrappedKey: Buffer.from(wrapped.CiphertextBlob),
      });
    }
    return { dataKey, recipients };
  }

  async openDataKey(recipients: readonly Recipient[], objectKey: string, where: string): Promise<Buffer> {
    const candidates = await this.#candidates(recipients);
    const wrong = () =>
      new WrongEncryptionKeyError(
        `${where} was encrypted for ${describeRecipients(recipients)}, not for the configured storage.encryption.kms_key_id ${this.keyId}`,
        { hint: 'Use the KMS key (or key file) the backup was written with: another key cannot decrypt it.' },
      );
    if (candidates.length === 0) throw wrong();
    for (const candidate of candidates) {
      try {
        const out = await this.#call(this.keyId, 'Decrypt', where, (client) =>
          client.send(
            new DecryptCommand({
              CiphertextBlob: candidate.wrappedKey,
              // Always named: KMS then decrypts with this key (or a replica of it) only, in this key's region.
              KeyId: this.keyId,
              EncryptionContext: contextOf(objectKey),
            }),
          ),
        );
        if (!out.Plaintext || out.Plaintext.length !== DATA_KEY_LENGTH)
          throw tampered(where, 'its wrapped data key does not decrypt to a 32-byte key');
        const dataKey = Buffer.from(out.Plaintext);
        out.Plaintext.fill(0);
        return dataKey;
      } catch (e) {
        // Another recipient of the same region may be the one (two aliases of a region's keys, say).
        if (e instanceof WrongEncryptionKeyError) continue;
        // KMS answers a key mismatch with AccessDenied too when the caller may not use the object's key.
        if (e instanceof EncryptionKeyAccessDeniedError)
          e.message += `; the object's data key is wrapped for ${describeRecipients(recipients)}`;
        throw e;
      }
    }
    throw wrong();
  }

  /**
   * The recipients the configured key can open, best first: the same key (or a replica of the same multi-Region
   * key) by id, else for an alias those of its region. Others are not tried: KMS would refuse them.
   */
  async #candidates(recipients: readonly Recipient[]): Promise<Recipient[]> {
    const mine = parseKmsKeyId(this.keyId);
    const region = mine.region ?? (await this.#client(undefined).config.region());
    const kms = recipients.filter((r) => r.type === RecipientType.awsKms);
    const parsed = kms.map((r) => ({ r, p: parseKmsKeyId(r.keyId) }));
    if (mine.key !== undefined) {
      const same = parsed.filter(({ p }) => p.key === mine.key);
      return [
        ...same.filter(({ p }) => p.region === region),
        ...same.filter(({ p }) => p.region !== region),
      ].map(({ r }) => r);
    }
    return parsed.filter(({ p }) => p.region === undefined || p.region === region).map(({ r }) => r);
  }

  async #call<T>(
    keyId: string,
    operation: string,
    where: string,
    send: (client: KMSClient) => Promise<T>,
  ): Promise<T> {
    const client = this.#client(parseKmsKeyId(keyId).region);
    try {
      return await send(client);
    } catch (e) {
      throw mapKmsError(e, { keyId, operation, where, endpoint: this.#endpoint });
    }
  }

  /** One client per region: an ARN's region, else the configured (or the SDK's default) one. */
  #client(region: string | undefined): KMSClient {
    const key = region ?? '';
    let client = this.#clients.get(key);
    if (!client) {
      const r = region ?? this.#options.region;
      client = new KMSClient({
        ...(r ? { region: r } : this.#endpoint ? { region: defaultRegion() } : {}),
        ...(this.#endpoint ? { endpoint: this.#endpoint } : {}),
        ...(this.#options.credentials ? { credentials: this.#options.credentials } : {}),
        maxAttempts: this.#options.maxAttempts ?? 10,
        retryMode: 'adaptive',
        requestHandler: { connectionTimeout: 10_000, requestTimeout: 30_000, throwOnRequestTimeout: true },
      });
      this.#clients.set(key, client);
    }
    return client;
  }

  /** Closes the clients' sockets (short-lived processes that want to exit promptly). */
  destroy(): void {
    for (const client of this.#clients.values()) client.destroy();
    this.#clients.clear();
  }
}

function defaultRegion(): string {
  return process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
}

const DENIED = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'CredentialsProviderError',
]);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);

/**
 * KMS errors a user can act on, as the errors of the table naming the key and the object. Messages are built from
 * error codes only (never from the request, whose plaintext would be a data key).
 */
export function mapKmsError(
  e: unknown,
  at: { keyId: string; operation: string; where: string; endpoint?: string | undefined },
): unknown {
  const err = e as {
    name?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const name = err?.name ?? '';
  const key = `KMS key ${at.keyId}`;
  const what = `${at.operation} for ${at.where}`;
  if (name === 'NotFoundException')
    return new EncryptionKeyNotFoundError(`${key} does not exist (${what})`, {
      hint: 'Check storage.encryption.kms_key_id and its region (an ARN names it; otherwise storage.region or AWS_REGION).',
      cause: e,
    });
  if (name === 'DisabledException')
    return new EncryptionKeyNotFoundError(`${key} is disabled (${what})`, {
      hint: `Enable it (aws kms enable-key --key-id ${at.keyId}): backups encrypted with it cannot be read until then.`,
      cause: e,
    });
  if (name === 'KMSInvalidStateException')
    return new EncryptionKeyNotFoundError(
      `${key} cannot be used in its state (pending deletion or import) (${what})`,
      {
        hint: `If it is pending deletion, cancel it now (aws kms cancel-key-deletion --key-id ${at.keyId}): once deleted, nothing encrypted with it can be read.`,
        cause: e,
      },
    );
  if (name === 'IncorrectKeyException')
    return new WrongEncryptionKeyError(`${at.where} was not encrypted with ${key} (${at.operation})`, {
      hint: 'Use the KMS key (or key file) the backup was written with.',
      cause: e,
    });
  if (name === 'InvalidCiphertextException')
    return tampered(
      at.where,
      `KMS cannot decrypt its data key with ${at.keyId} for this object key: the object was copied or renamed from another key, or its header was changed`,
    );
  if (name === 'InvalidKeyUsageException' || name === 'UnsupportedOperationException')
    return new ConfigError(`${key} cannot encrypt data keys (${name}) (${what})`, {
      hint: 'storage.encryption.kms_key_id must name a symmetric encryption key (KeySpec SYMMETRIC_DEFAULT).',
      cause: e,
    });
  if (DENIED.has(name) || err?.$metadata?.httpStatusCode === 403)
    // A refusal the SDK could not parse (a proxy's page, say) has a parser's error name: say the status instead.
    return new EncryptionKeyAccessDeniedError(
      `access to ${key} was refused (${DENIED.has(name) ? name : 'HTTP 403'}) (${what})`,
      {
        hint:
          'Check the AWS credentials in use, and that the IAM policy and the key policy allow kms:Decrypt to readers ' +
          '(and kms:GenerateDataKey, kms:Encrypt for the additional keys, to writers) on the key.',
        cause: e,
      },
    );
  if (/region is missing/i.test(err?.message ?? ''))
    return new StorageAccessError(`no AWS region configured for ${key} (${what})`, {
      hint: 'Give kms_key_id as an ARN, or set storage.region (S3), storage.encryption.region or AWS_REGION.',
      cause: e,
    });
  if ((err?.code !== undefined && NETWORK.has(err.code)) || name === 'TimeoutError')
    return new StorageAccessError(
      `cannot reach AWS KMS${at.endpoint ? ` at ${at.endpoint}` : ''} for ${key} (${err?.code ?? name}) (${what})`,
      {
        hint: 'Check the network path to KMS (a VPC endpoint or NAT), and storage.encryption.endpoint.',
        cause: e,
      },
    );
  return e;
}
