// The npm registry this project installs from serves @biomejs/cli-* only for glibc Linux, so `npm install` leaves
// the other platforms' optional packages out of package-lock.json, and `npm ci` then refuses the lock file as
// out of sync. This adds lock entries for them (never installed here: their os/cpu/libc do not match), exactly
// as npm writes them when the registry has them. Run after changing @biomejs/biome's version.
import { readFileSync, writeFileSync } from 'node:fs';

const lockPath = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const biome = lock.packages['node_modules/@biomejs/biome'];
const platforms = {
  'cli-android-arm64': { os: ['android'], cpu: ['arm64'] },
  'cli-android-x64': { os: ['android'], cpu: ['x64'] },
  'cli-darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  'cli-darwin-x64': { os: ['darwin'], cpu: ['x64'] },
  'cli-linux-arm64-musl': { os: ['linux'], cpu: ['arm64'], libc: ['musl'] },
  'cli-linux-x64-musl': { os: ['linux'], cpu: ['x64'], libc: ['musl'] },
  'cli-win32-arm64': { os: ['win32'], cpu: ['arm64'] },
  'cli-win32-x64': { os: ['win32'], cpu: ['x64'] },
};
let added = 0;
for (const [name, platform] of Object.entries(platforms)) {
  const key = `node_modules/@biomejs/${name}`;
  if (lock.packages[key] || !biome.optionalDependencies?.[`@biomejs/${name}`]) continue;
  lock.packages[key] = {
    version: biome.optionalDependencies[`@biomejs/${name}`],
    ...platform,
    dev: true,
    license: 'MIT OR Apache-2.0',
    optional: true,
    engines: { node: '>=14.21.3' },
  };
  added++;
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
);
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} lock entries`);
