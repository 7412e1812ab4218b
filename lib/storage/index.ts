export { EncryptingStore } from './encryption/encrypting-store.ts';
export { parseKmsKeyId } from './encryption/kms.ts';
export { PlaintextStore } from './encryption/plaintext-store.ts';
export { FilesystemStore } from './filesystem-store.ts';
export type { ObjectStore } from './object-store.ts';
export {
  type EncryptionSettings,
  openStore,
  openStoreFromUrl,
  parseStorageUrl,
  type StorageSettings,
} from './open-store.ts';
export { S3Store, type S3StoreOptions } from './s3-store.ts';
