import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { acquireLease as acquireBackupLease, leaseOf } from '../../../lib/backup/lease.ts';
import { LeaseHeldError } from '../../../lib/errors.ts';
import { RestoreLayout } from '../../../lib/format/restore-state.ts';
import { acquireRestoreLease, type RestoreIdentity, restoreLeaseOf } from '../../../lib/restore/index.ts';
import { acquireLease, type HeldLease, keepLeaseAlive } from '../../../lib/storage/lease.ts';
import type { ObjectStore } from '../../../lib/storage/object-store.ts';

/** An in-memory ObjectStore: enough for leases (putIfAbsent, get, put, delete). */
class FakeStore implements ObjectStore {
  readonly location = 'mem://leases';
  readonly objects = new Map<string, Buffer>();
  async put(key: string, body: Uint8Array | string) {
    this.objects.set(key, Buffer.from(body));
  }
  async putIfAbsent(key: string, body: Uint8Array | string) {
    if (this.objects.has(key)) return false;
    this.objects.set(key, Buffer.from(body));
    return true;
  }
  async putStream(): Promise<{ size: number }> {
    throw new Error('not in the fake');
  }
  async get(key: string) {
    const b = this.objects.get(key);
    if (!b) throw new Error(`absent: ${key}`);
    return b;
  }
  async getIfExists(key: string) {
    return this.objects.get(key);
  }
  // biome-ignore lint/correctness/useYield: never streamed in these tests
  async *getStream(): AsyncIterable<Uint8Array> {
    throw new Error('not in the fake');
  }
  async head(key: string) {
    const b = this.objects.get(key);
    return b ? { size: b.length } : undefined;
  }
  async list(prefix: string) {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
  async delete(keys: string[]) {
    for (const k of keys) this.objects.delete(k);
  }
  json(key: string): Record<string, unknown> {
    return JSON.parse(this.objects.get(key)!.toString()) as Record<string, unknown>;
  }
}

const RESTORE: RestoreIdentity = {
  restore_id: 'b-1--cluster-x--0123456789',
  backup_id: 'b-1',
  target_cluster_id: 'cluster-x',
  topics: { orders: 'orders-restored', payments: 'payments' },
};
const KEY = RestoreLayout.lease(RESTORE.restore_id);
const T0 = Date.parse('2026-03-01T10:00:00Z');

function clock(start = T0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** The pid of a process that has exited (and, on a quiet machine, not been reused yet). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

function errorOf(p: Promise<unknown>): Promise<LeaseHeldError> {
  return p.then(
    () => {
      throw new Error('expected a LeaseHeldError');
    },
    (e: unknown) => {
      expect(e).toBeInstanceOf(LeaseHeldError);
      return e as LeaseHeldError;
    },
  );
}

afterEach(() => {
  vi.useRealTimers();
});

describe('restore lease', () => {
  it('is an object next to the restore state naming the restore, the target and its holder', async () => {
    const store = new FakeStore();
    const c = clock();
    const lease = await acquireRestoreLease(store, RESTORE, {
      ttlMs: 60_000,
      now: c.now,
      bootstrapServers: ['dr-0:9092'],
    });
    expect(KEY).toBe(`restores/${RESTORE.restore_id}/lease.json`);
    expect(store.json(KEY)).toEqual({
      owner: lease.owner,
      holder: `${hostname()} pid ${process.pid}`,
      host: hostname(),
      pid: process.pid,
      pid_space: expect.any(String),
      acquired_at: '2026-03-01T10:00:00.000Z',
      expires_at: '2026-03-01T10:01:00.000Z',
      restore_id: RESTORE.restore_id,
      backup_id: 'b-1',
      target_cluster_id: 'cluster-x',
      target_topics: ['orders-restored', 'payments'],
      target_bootstrap_servers: ['dr-0:9092'],
    });
    await lease.release();
    expect(store.objects.size).toBe(0);
  });

  it('refuses a second run of the same restore, naming the holder (host, pid, since when) and what to do', async () => {
    const store = new FakeStore();
    const c = clock();
    await acquireRestoreLease(store, RESTORE, { ttlMs: 60_000, now: c.now });
    c.advance(59_000);
    const e = await errorOf(acquireRestoreLease(store, RESTORE, { ttlMs: 60_000, now: c.now }));
    expect(e.name).toBe('LeaseHeldError');
    expect(e.message).toBe(
      `restore ${RESTORE.restore_id} (backup b-1 into orders-restored, payments of cluster cluster-x) is already running: pid ${process.pid} on ${hostname()} holds its lease since 2026-03-01T10:00:00.000Z`,
    );
    expect(e.hint).toMatch(/^Wait for it to finish/);
    expect(e.hint).toContain(`a run on ${hostname()} then takes over at once`);
    expect(e.hint).toContain('after the lease expires at 2026-03-01T10:01:00.000Z');
    // Another restore (another id: other topics, window or target) has its own lease.
    const other = await acquireRestoreLease(
      store,
      { ...RESTORE, restore_id: 'b-1--cluster-x--ffffffffff' },
      { ttlMs: 60_000, now: c.now },
    );
    expect(other.owner).toBeTruthy();
  });

  it('is taken over after it expires; the run that lost it cannot renew it', async () => {
    const store = new FakeStore();
    const c = clock();
    const first = await acquireRestoreLease(store, RESTORE, { ttlMs: 60_000, now: c.now });
    c.advance(60_001);
    const takeOvers: [HeldLease, string][] = [];
    const second = await acquireRestoreLease(store, RESTORE, {
      ttlMs: 60_000,
      now: c.now,
      onTakeOver: (previous, why) => takeOvers.push([previous, why]),
    });
    expect(takeOvers.map(([p, why]) => [p.owner, why])).toEqual([[first.owner, 'expired']]);
    expect(store.json(KEY)['owner']).toBe(second.owner);
    const e = await errorOf(first.renew());
    expect(e.message).toMatch(/was taken over by pid \d+ on /);
    // Releasing a lease one no longer holds leaves the new holder's alone.
    await first.release();
    expect(store.json(KEY)['owner']).toBe(second.owner);
  });

  it('is taken over at once when its holder process is gone from this machine', async () => {
    const store = new FakeStore();
    const c = clock();
    const mine = await acquireRestoreLease(store, RESTORE, { ttlMs: 60_000, now: c.now });
    const space = store.json(KEY)['pid_space'];
    await mine.release();
    const dead = deadPid();
    const body = (pid: number, pidSpace: unknown) =>
      JSON.stringify({
        owner: 'killed-run',
        holder: `${hostname()} pid ${pid}`,
        host: hostname(),
        pid,
        pid_space: pidSpace,
        acquired_at: new Date(T0).toISOString(),
        expires_at: new Date(T0 + 60_000).toISOString(),
        restore_id: RESTORE.restore_id,
      });
    await store.put(KEY, body(dead, space));
    const whys: string[] = [];
    const taken = await acquireRestoreLease(store, RESTORE, {
      ttlMs: 60_000,
      now: c.now,
      onTakeOver: (_p, why) => whys.push(why),
    });
    expect(whys).toEqual(['holder died']);
    expect(store.json(KEY)['owner']).toBe(taken.owner);

    // The same pid in another machine's (or container's) pid space says nothing about that process: wait.
    await store.put(KEY, body(dead, 'linux:another-boot:pid:[4026531836]'));
    await errorOf(acquireRestoreLease(store, RESTORE, { ttlMs: 60_000, now: c.now }));
  });

  it('a workflow lease names no process: renewed and released by its owner token in another step', async () => {
    const store = new FakeStore();
    const c = clock();
    const taken = await acquireRestoreLease(store, RESTORE, {
      ttlMs: 60_000,
      now: c.now,
      processBound: false,
    });
    expect(store.json(KEY)).not.toHaveProperty('pid');
    expect(store.json(KEY)['holder']).toBe(`workflow (${hostname()})`);
    const e = await errorOf(acquireRestoreLease(store, RESTORE, { ttlMs: 60_000, now: c.now }));
    expect(e.message).toContain(`workflow (${hostname()}) holds its lease since 2026-03-01T10:00:00.000Z`);
    expect(e.hint).toBe(
      'Wait for that workflow execution to finish; if it was stopped, run again after its lease expires at 2026-03-01T10:01:00.000Z.',
    );

    c.advance(50_000);
    const later = restoreLeaseOf(store, RESTORE.restore_id, {
      owner: taken.owner,
      ttlMs: 60_000,
      now: c.now,
      processBound: false,
    });
    await later.renew();
    // Renewal moves the expiry only: the holder and since when stay as they were.
    expect(store.json(KEY)).toMatchObject({
      holder: `workflow (${hostname()})`,
      acquired_at: '2026-03-01T10:00:00.000Z',
      expires_at: '2026-03-01T10:01:50.000Z',
      target_topics: ['orders-restored', 'payments'],
    });
    c.advance(59_000);
    await errorOf(acquireRestoreLease(store, RESTORE, { ttlMs: 60_000, now: c.now }));
    const stranger = restoreLeaseOf(store, RESTORE.restore_id, { owner: 'someone-else', ttlMs: 60_000 });
    await stranger.release();
    expect(store.objects.has(KEY)).toBe(true);
    await errorOf(stranger.renew());
    await later.release();
    expect(store.objects.has(KEY)).toBe(false);
  });

  it('an unreadable lease object is treated as expired', async () => {
    const store = new FakeStore();
    await store.put(KEY, 'not json');
    const lease = await acquireRestoreLease(store, RESTORE, { ttlMs: 60_000 });
    expect(store.json(KEY)['owner']).toBe(lease.owner);
  });
});

describe('shared lease machinery', () => {
  it('keepLeaseAlive renews every third of the lifetime, and stop() rethrows a lost lease', async () => {
    vi.useFakeTimers();
    const store = new FakeStore();
    const lease = await acquireLease(store, {
      key: 'x/lease.json',
      ttlMs: 30_000,
      fields: {},
      heldError: () => new LeaseHeldError('held'),
    });
    const renew = vi.spyOn(lease, 'renew');
    const alive = keepLeaseAlive(lease, 30_000);
    await vi.advanceTimersByTimeAsync(25_000);
    expect(renew).toHaveBeenCalledTimes(2);
    await alive.check();
    await store.delete(['x/lease.json']);
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(alive.stop()).rejects.toBeInstanceOf(LeaseHeldError);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(renew).toHaveBeenCalledTimes(3);
  });

  it('the backup lease is the same object at the location root, with its own message', async () => {
    const store = new FakeStore();
    const held = await acquireBackupLease(store, { backupId: 'other-run', ttlMs: 60_000 });
    expect(store.json('lease.json')).toMatchObject({ backup_id: 'other-run', owner: held.owner });
    const e = await errorOf(acquireBackupLease(store, { backupId: 'b-2', ttlMs: 60_000 }));
    expect(e.message).toMatch(
      /^another backup \(other-run, .* pid \d+\) is running in mem:\/\/leases; its lease expires at /,
    );
    expect(e.hint).toBe('Wait for it to finish. If that process died, run again after the lease expires.');
    // A restore lease does not block backups, nor the other way round.
    await acquireRestoreLease(store, RESTORE, { ttlMs: 60_000 });
    const other = leaseOf(store, { backupId: 'other-run', ttlMs: 60_000, owner: held.owner });
    await other.renew();
    await other.release();
    expect([...store.objects.keys()]).toEqual([KEY]);
  });
});
