export { FilesystemStore } from './filesystem-store.ts';
export type { ObjectStore } from './object-store.ts';
export { openStore, openStoreFromUrl, parseStorageUrl, type StorageSettings } from './open-store.ts';
export { S3Store, type S3StoreOptions } from './s3-store.ts';
