import { NotFoundError, ObjectArchivedError, StorageAccessError } from '../errors.ts';

/** What an SDK error looks like from outside: the S3 code as `name`, the HTTP status in `$metadata`. */
interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  /** InvalidObjectState: the object's class, and its Intelligent-Tiering access tier. */
  StorageClass?: string;
  AccessTier?: string;
}

export function s3ErrorCode(e: unknown): string | undefined {
  return (e as SdkError | undefined)?.name;
}

export function s3Status(e: unknown): number | undefined {
  return (e as SdkError | undefined)?.$metadata?.httpStatusCode;
}

const CREDENTIAL_CODES = new Set([
  'AccessDenied',
  'AllAccessDisabled',
  'Forbidden',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
  // versitygw's answer (a 404) to an access key it does not know.
  'XAdminUserNotFound',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);

const CREDENTIALS_HINT =
  'check the AWS credentials in use (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or the instance/task role) ' +
  'and that their policy allows s3:ListBucket, s3:GetObject, s3:PutObject and s3:DeleteObject on the bucket';

/**
 * Turns the S3 errors a user can fix into UserErrors naming the bucket (and key); anything else is returned
 * unchanged. Messages are built from error codes only: never from request details, which could carry secrets.
 */
export function mapS3Error(e: unknown, where: { bucket: string; key?: string; endpoint?: string }): unknown {
  if (e instanceof NotFoundError || e instanceof StorageAccessError || e instanceof ObjectArchivedError)
    return e;
  const code = s3ErrorCode(e);
  const status = s3Status(e);
  const bucket = `S3 bucket "${where.bucket}"${where.endpoint ? ` at ${where.endpoint}` : ''}`;

  if (code === 'NoSuchBucket') {
    return new NotFoundError(`${bucket} does not exist`, {
      hint: 'check storage.bucket (and storage.region or storage.endpoint), or create the bucket',
      cause: e,
    });
  }
  if (code === 'NoSuchKey' || (code === 'NotFound' && where.key !== undefined)) {
    return new NotFoundError(`s3://${where.bucket}/${where.key ?? ''} does not exist`, { cause: e });
  }
  // A 403 too, but no matter of credentials: checked first.
  if (code === 'InvalidObjectState') {
    const sdk = e as SdkError;
    const object = `s3://${where.bucket}/${where.key ?? ''}`;
    const storageClass = sdk.StorageClass ?? 'an archive storage class';
    const tier = sdk.AccessTier ? ` (${sdk.AccessTier} tier)` : '';
    return new ObjectArchivedError(
      `${object} is in ${storageClass}${tier}: S3 serves it only once it has been retrieved`,
      { hint: archivedHint(object), cause: e },
    );
  }
  if (code === 'CredentialsProviderError') {
    return new StorageAccessError(`no AWS credentials found to access ${bucket}`, {
      hint: CREDENTIALS_HINT,
      cause: e,
    });
  }
  if ((code !== undefined && CREDENTIAL_CODES.has(code)) || status === 403) {
    return new StorageAccessError(`access to ${bucket} was refused (${code ?? `HTTP ${status}`})`, {
      hint: CREDENTIALS_HINT,
      cause: e,
    });
  }
  if (code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed' || status === 301) {
    return new StorageAccessError(`${bucket} is in another region than the one configured (${code})`, {
      hint: "set storage.region (or AWS_REGION) to the bucket's region",
      cause: e,
    });
  }
  const message = (e as SdkError | undefined)?.message ?? '';
  if (/region is missing/i.test(message)) {
    return new StorageAccessError(`no AWS region configured for ${bucket}`, {
      hint: 'set storage.region, or AWS_REGION in the environment',
      cause: e,
    });
  }
  const sysCode = (e as SdkError | undefined)?.code;
  if ((sysCode !== undefined && NETWORK_CODES.has(sysCode)) || code === 'TimeoutError') {
    return new StorageAccessError(`cannot reach ${bucket} (${sysCode ?? code})`, {
      hint: 'check the network path to S3, and storage.endpoint / storage.region',
      cause: e,
    });
  }
  return e;
}

/**
 * What to do about archived objects: ask for a retrieval, then run again once it is done. Shared by the error of a
 * read and the restore plan's check (lib/restore/archived-segments.ts). `example`: one object, as s3://bucket/key.
 */
export function archivedHint(example: string): string {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(example);
  const [bucket, key] = m ? [m[1]!, m[2]!] : ['<bucket>', '<key>'];
  return (
    `Retrieve the objects first with S3 RestoreObject (e.g. aws s3api restore-object --bucket ${bucket} --key ${key} ` +
    `--restore-request '{"Days":7,"GlacierJobParameters":{"Tier":"Standard"}}'; for an Intelligent-Tiering archive ` +
    `tier --restore-request '{}'), then run again once HeadObject shows ongoing-request="false": minutes ` +
    '(Expedited) to 48 hours (DEEP_ARCHIVE, Bulk).'
  );
}
