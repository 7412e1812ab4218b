import { type Recipient, RecipientType } from './framing.ts';

/**
 * Where the data keys of an encrypted location come from: AWS KMS (kms.ts) or a local key file (key-file.ts).
 * Every object gets a fresh 32-byte data key; the key source wraps it (once per recipient) for the object's header,
 * and unwraps it again to read. Implementations never put key material into an error or a log line.
 */
export interface KeySource {
  /** For messages: `KMS key arn:aws:kms:...` or `key file /etc/kafka-backup.key (keyfile:0123456789abcdef)`. */
  describe(): string;
  /** A fresh data key and its wrapped copies. `where` names the object in messages. */
  newDataKey(objectKey: string, where: string): Promise<{ dataKey: Buffer; recipients: Recipient[] }>;
  /**
   * The data key, unwrapped from whichever recipient this source can open. Throws WrongEncryptionKeyError naming
   * the recipients' key ids when none is for this key, TamperedObjectError when the wrapped key does not open (for
   * this object key), and the not-found/access errors of the key itself.
   */
  openDataKey(recipients: readonly Recipient[], objectKey: string, where: string): Promise<Buffer>;
}

/** `KMS key arn:...`, `key file keyfile:...`: the recipients of an object, for "was encrypted for ..." messages. */
export function describeRecipients(recipients: readonly Recipient[]): string {
  return recipients
    .map((r) =>
      r.type === RecipientType.awsKms
        ? `KMS key ${r.keyId}`
        : r.type === RecipientType.keyFile
          ? `key file ${r.keyId}`
          : `key ${r.keyId}`,
    )
    .join(', ');
}
