import { CorruptDataError, type ErrorName, UserError } from '../../errors.ts';

/*
 * The errors of client-side encryption (their names, exit codes and retriability are in lib/errors.ts's table).
 * Every message names the object (`<location>/<key>`) and the key (a key file's path and id, a KMS key id): never
 * key material, which no error, log or metric ever carries.
 */

/** The object's data key is wrapped for other keys than the configured one. */
export class WrongEncryptionKeyError extends UserError {
  override readonly name: ErrorName = 'WrongEncryptionKeyError';
}

/** The key file or KMS key does not exist (or the KMS key is disabled, pending deletion). */
export class EncryptionKeyNotFoundError extends UserError {
  override readonly name: ErrorName = 'EncryptionKeyNotFoundError';
}

/** KMS refused to use the key for us (permissions, missing credentials). */
export class EncryptionKeyAccessDeniedError extends UserError {
  override readonly name: ErrorName = 'EncryptionKeyAccessDeniedError';
}

/** A plaintext object where storage.encryption says every object is encrypted. */
export class ObjectNotEncryptedError extends UserError {
  override readonly name: ErrorName = 'ObjectNotEncryptedError';
}

/** An encrypted object read without storage.encryption. */
export class EncryptionKeyRequiredError extends UserError {
  override readonly name: ErrorName = 'EncryptionKeyRequiredError';
}

/**
 * An encrypted object that fails authentication. A CorruptDataError, so that `validate` reports it as a problem of
 * the object (like a checksum mismatch) and goes on with the others.
 */
export class TamperedObjectError extends CorruptDataError {
  override readonly name: ErrorName = 'TamperedObjectError';
}
