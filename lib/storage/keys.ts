import { UserError } from '../errors.ts';

/**
 * Suffix of in-flight temp files in a filesystem store. Reserved so that `list` can tell a half-written
 * object from a real key: no key may contain a segment ending like this.
 */
export const TEMP_SUFFIX = /\.kbtmp-[0-9a-f]{16}$/;

/**
 * Rejects keys that could escape the store's root or mean different things on disk and in S3.
 * Keys reach the store from manifests, which a user can edit, so a bad one is a UserError rather than a bug.
 */
export function checkKey(key: string): void {
  const problem = keyProblem(key);
  if (problem) {
    throw new UserError(`invalid object key ${JSON.stringify(key)}: ${problem}`, {
      hint: 'keys come from backup manifests; a manifest naming such a key was edited or is corrupt',
    });
  }
}

function keyProblem(key: string): string | undefined {
  if (key === '') return 'empty';
  if (key.startsWith('/')) return 'starts with "/"';
  if (key.includes('\\')) return 'contains "\\"';
  if (key.includes('\0')) return 'contains a NUL byte';
  for (const segment of key.split('/')) {
    if (segment === '') return 'has an empty path segment';
    if (segment === '.' || segment === '..') return `has a "${segment}" path segment`;
    if (TEMP_SUFFIX.test(segment)) return 'uses the reserved temp-file suffix';
  }
  return undefined;
}

/** Sorts keys by their UTF-8 bytes, the order S3 lists in, so both backends agree. */
export function sortKeys(keys: string[]): string[] {
  return keys
    .map((k) => ({ k, b: Buffer.from(k, 'utf8') }))
    .sort((x, y) => Buffer.compare(x.b, y.b))
    .map((e) => e.k);
}

/** A list prefix is a key, or the start of one: '' lists everything, a trailing '/' names a folder. */
export function checkPrefix(prefix: string): void {
  if (prefix === '') return;
  checkKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}
