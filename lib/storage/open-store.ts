import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.ts';
import { FilesystemStore } from './filesystem-store.ts';
import type { ObjectStore } from './object-store.ts';
import { S3Store } from './s3-store.ts';

/** The `storage` section of a config file, as validated by the config loader. */
export type StorageSettings =
  | { backend: 'filesystem'; path: string }
  | {
      backend: 's3';
      bucket: string;
      region?: string;
      prefix?: string;
      endpoint?: string;
      force_path_style?: boolean;
      object_lock?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days: number };
    };

export function openStore(storage: StorageSettings): ObjectStore {
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
export function openStoreFromUrl(
  url: string,
  opts: { region?: string; endpoint?: string } = {},
): ObjectStore {
  return openStore(parseStorageUrl(url, opts));
}

export function parseStorageUrl(
  url: string,
  opts: { region?: string; endpoint?: string } = {},
): StorageSettings {
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
