import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../../errors.ts';
import {
  EncryptionKeyAccessDeniedError,
  EncryptionKeyNotFoundError,
  WrongEncryptionKeyError,
} from './errors.ts';
import { DATA_KEY_LENGTH, type Recipient, RecipientType, TAG_LENGTH, tampered } from './framing.ts';
import { describeRecipients, type KeySource } from './key-source.ts';

/** What a key file holds: 32 random bytes, base64 (`openssl rand -base64 32`). */
const KEY_FILE_TEXT = /^[A-Za-z0-9+/]{43}=$/;
export const KEY_FILE_COMMAND = 'umask 077 && openssl rand -base64 32 > FILE';
const WRAP_NONCE_LENGTH = 12;
/** Additional data of a wrapped data key, followed by the object key: a wrapped key opens only for its object. */
const WRAP_CONTEXT = Buffer.from('kafka-backup data key v1\0', 'latin1');
const ID_CONTEXT = Buffer.from('kafka-backup key file id v1\0', 'latin1');

/**
 * The key id of a key file's key: a fingerprint (64 bits of a domain-separated SHA-256) that names the key in
 * headers and messages and tells a wrong key file from the right one, without revealing anything usable of it.
 */
export function keyFileId(key: Buffer): string {
  return `keyfile:${createHash('sha256').update(ID_CONTEXT).update(key).digest('hex').slice(0, 16)}`;
}

/**
 * A local key (storage.encryption.key_file) that wraps each object's data key with AES-256-GCM. The file is read on
 * first use, so a config naming a missing file fails when an object is read or written, naming both.
 */
export class KeyFileKeySource implements KeySource {
  readonly path: string;
  #key: Promise<{ key: Buffer; id: string }> | undefined;

  constructor(path: string) {
    this.path = resolve(path);
  }

  describe(): string {
    return `key file ${this.path}`;
  }

  async newDataKey(objectKey: string, where: string): Promise<{ dataKey: Buffer; recipients: Recipient[] }> {
    const { key, id } = await this.#load(where);
    const dataKey = randomBytes(DATA_KEY_LENGTH);
    const nonce = randomBytes(WRAP_NONCE_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(Buffer.concat([WRAP_CONTEXT, Buffer.from(objectKey, 'utf8')]));
    const wrappedKey = Buffer.concat([nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
    return { dataKey, recipients: [{ type: RecipientType.keyFile, keyId: id, wrappedKey }] };
  }

  async openDataKey(recipients: readonly Recipient[], objectKey: string, where: string): Promise<Buffer> {
    const { key, id } = await this.#load(where);
    const mine = recipients.find((r) => r.type === RecipientType.keyFile && r.keyId === id);
    if (!mine)
      throw new WrongEncryptionKeyError(
        `${where} was encrypted for ${describeRecipients(recipients)}, not for the key file ${this.path} (${id})`,
        { hint: 'Use the key file (or KMS key) the backup was written with: another key cannot decrypt it.' },
      );
    const w = mine.wrappedKey;
    if (w.length !== WRAP_NONCE_LENGTH + DATA_KEY_LENGTH + TAG_LENGTH)
      throw tampered(where, 'its wrapped data key is malformed');
    const decipher = createDecipheriv('aes-256-gcm', key, w.subarray(0, WRAP_NONCE_LENGTH));
    decipher.setAAD(Buffer.concat([WRAP_CONTEXT, Buffer.from(objectKey, 'utf8')]));
    decipher.setAuthTag(w.subarray(w.length - TAG_LENGTH));
    try {
      return Buffer.concat([
        decipher.update(w.subarray(WRAP_NONCE_LENGTH, w.length - TAG_LENGTH)),
        decipher.final(),
      ]);
    } catch {
      throw tampered(
        where,
        `its data key does not open with ${id} for this object key: the object was copied or renamed from another key, or its header was changed`,
      );
    }
  }

  #load(where: string): Promise<{ key: Buffer; id: string }> {
    if (this.#key) return this.#key;
    const loading = this.#read(where);
    this.#key = loading;
    // A failed read is not kept: the file may be put in place, and the next object tries again.
    loading.catch(() => {
      if (this.#key === loading) this.#key = undefined;
    });
    return loading;
  }

  async #read(where: string): Promise<{ key: Buffer; id: string }> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM')
        throw new EncryptionKeyAccessDeniedError(
          `cannot read the key file ${this.path} (storage.encryption.key_file), needed for ${where}: permission denied`,
          { hint: 'Let the user running kafka-backup read it (and nobody else: chmod 600).' },
        );
      throw new EncryptionKeyNotFoundError(
        `the key file ${this.path} (storage.encryption.key_file), needed for ${where}, ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`}`,
        {
          hint: `Give the key file the backup was written with. A new key (for a new location) is made with: ${KEY_FILE_COMMAND.replace('FILE', this.path)}`,
        },
      );
    }
    const trimmed = text.trim();
    if (!KEY_FILE_TEXT.test(trimmed))
      // Never quote the content: it may be a key of another format.
      throw new ConfigError(
        `the key file ${this.path} (storage.encryption.key_file) does not hold a key: it must hold 32 random bytes in base64 (44 characters)`,
        { hint: `Make one with: ${KEY_FILE_COMMAND.replace('FILE', this.path)}` },
      );
    const key = Buffer.from(trimmed, 'base64');
    return { key, id: keyFileId(key) };
  }
}
