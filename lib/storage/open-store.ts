import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.ts';
import { EncryptingStore } from './encryption/encrypting-store.ts';
import { KeyFileKeySource } from './encryption/key-file.ts';
import type { KeySource } from './encryption/key-source.ts';
import { KmsKeySource } from './encryption/kms.ts';
import { PlaintextStore } from './encryption/plaintext-store.ts';
import { FilesystemStore } from './filesystem-store.ts';
import type { ObjectStore } from './object-store.ts';
import { S3Store } from './s3-store.ts';

/** `storage.encryption`: exactly one of kms_key_id and key_file (the config schema checks it). */
export interface EncryptionSettings {
  kms_key_id?: string | undefined;
  additional_kms_key_ids?: string[] | undefined;
  region?: string | undefined;
  endpoint?: string | undefined;
  key_file?: string | undefined;
}

/** The `storage` section of a config file, as validated by the config loader. */
export type StorageSettings =
  | { backend: 'filesystem'; path: string; encryption?: EncryptionSettings | undefined }
  | {
      backend: 's3';
      encryption?: EncryptionSettings | undefined;
      bucket: string;
      region?: string;
      prefix?: string;
      endpoint?: string;
      force_path_style?: boolean;
      object_lock?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days: number };
    };

/**
 * The store of a `storage` section: with `encryption`, every object (but the leases) is encrypted on the way in and
 * decrypted on the way out; without, an encrypted object is refused with an error saying which key it needs.
 */
export function openStore(storage: StorageSettings): ObjectStore {
  const store = openBackend(storage);
  if (!storage.encryption) return new PlaintextStore(store);
  return new EncryptingStore(store, keySourceFor(storage.encryption, storage));
}

function keySourceFor(e: EncryptionSettings, storage: StorageSettings): KeySource {
  if (e.key_file !== undefined) return new KeyFileKeySource(e.key_file);
  if (e.kms_key_id === undefined)
    throw new UserError('storage.encryption needs kms_key_id or key_file', {
      hint: 'Name an AWS KMS key (kms_key_id) or a local key file (key_file).',
    });
  const region = e.region ?? (storage.backend === 's3' ? storage.region : undefined);
  return new KmsKeySource({
    keyId: e.kms_key_id,
    ...(e.additional_kms_key_ids ? { additionalKeyIds: e.additional_kms_key_ids } : {}),
    ...(region !== undefined ? { region } : {}),
    ...(e.endpoint !== undefined ? { endpoint: e.endpoint } : {}),
  });
}

function openBackend(storage: StorageSettings): ObjectStore {
  if (storage.backend === 'filesystem') return new FilesystemStore(storage.path);
  return new S3Store({
    bucket: storage.bucket,
    ...(storage.prefix !== undefined ? { prefix: storage.prefix } : {}),
    ...(storage.region !== undefined ? { region: storage.region } : {}),
    ...(storage.endpoint !== undefined ? { endpoint: storage.endpoint } : {}),
    ...(storage.force_path_style !== undefined ? { forcePathStyle: storage.force_path_style } : {}),
    ...(storage.object_lock !== undefined ? { objectLock: storage.object_lock } : {}),
  });
}

/** A location given on the command line: `s3://bucket/prefix`, `file:///path`, or a plain local path. */
export function openStoreFromUrl(url: string, opts: UrlOptions = {}): ObjectStore {
  return openStore(parseStorageUrl(url, opts));
}

export interface UrlOptions {
  region?: string;
  endpoint?: string;
  /** `--key-file` / `--kms-key-id`: the location is encrypted. */
  encryption?: EncryptionSettings;
}

export function parseStorageUrl(url: string, opts: UrlOptions = {}): StorageSettings {
  const storage = parseLocation(url, opts);
  return opts.encryption ? { ...storage, encryption: opts.encryption } : storage;
}

function parseLocation(url: string, opts: UrlOptions): StorageSettings {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (url.trim() === '') throw new UserError('the backup location is empty', { hint: LOCATION_HINT });
    return { backend: 'filesystem', path: url };
  }
  if (scheme === 'file') return { backend: 'filesystem', path: fileURLToPath(url) };
  if (scheme !== 's3') {
    throw new UserError(`unsupported backup location ${url}: only s3:// and local paths`, {
      hint: LOCATION_HINT,
    });
  }
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const prefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
  if (bucket === '') throw new UserError(`backup location ${url} names no bucket`, { hint: LOCATION_HINT });
  return {
    backend: 's3',
    bucket,
    ...(prefix ? { prefix } : {}),
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
  };
}

const LOCATION_HINT = 'give s3://bucket/prefix, file:///path or a folder path';
