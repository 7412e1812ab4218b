import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EvidenceLayout,
  type EvidenceReport,
  generateEvidenceKeyPair,
  keyFileSigner,
  keyFileVerifier,
  listEvidence,
  loadEvidence,
  publicKeyFingerprint,
  verifyEvidence,
  writeEvidence,
} from '../../../lib/evidence/index.ts';
import { FilesystemStore } from '../../../lib/storage/filesystem-store.ts';

let dir: string;
let store: FilesystemStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'evidence-'));
  store = new FilesystemStore(join(dir, 'backups'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function report(id = 'drill-20261202-010203', ok = true): EvidenceReport {
  return {
    format_version: 1,
    id,
    kind: 'synthetic',
    ok,
    started_at: '2026-12-02T01:02:03.000Z',
    finished_at: '2026-12-02T01:03:00.000Z',
    triggered_by: { via: 'cli', principal: 'alice@host' },
    versions: { kafka_backup: '0.1.0', node: 'v24.0.0', source_cluster_id: 'abc' },
    restored: {
      backup_id: 'drill-20261202-010203',
      location: 'file:///backups/_drills',
      topics: [
        { source_topic: 'dr-test-1', target_topic: 'dr-test-1', partitions: 3, records: 10, bytes: 100 },
      ],
      records: 10,
      bytes: 100,
    },
    checks: [{ name: 'counts', ok, detail: '3 partitions' }],
    rpo: { backup_age_seconds: 12, replication_delay_seconds: null },
    rto: {
      restore_seconds: 2,
      restored_bytes: 100,
      bytes_per_second: 50,
      full_backup_bytes: 1000,
      projected_full_restore_seconds: 20,
    },
    steps: [{ name: 'restore', ok, duration_ms: 2000, detail: 'done' }],
  };
}

function keys(name = 'k') {
  return generateEvidenceKeyPair(join(dir, name));
}

describe('evidence reports', () => {
  it('writes report.json, report.md and signature.json, and verifies with the public key', async () => {
    const k = keys();
    const stored = await writeEvidence(store, report(), keyFileSigner(k.privatePath));
    expect(stored.signature.key_id).toBe(k.keyId);
    expect(await store.list(EvidenceLayout.folder('drill-20261202-010203'))).toEqual([
      'evidence/drill-20261202-010203/report.json',
      'evidence/drill-20261202-010203/report.md',
      'evidence/drill-20261202-010203/signature.json',
    ]);
    const v = await verifyEvidence(store, 'drill-20261202-010203', keyFileVerifier(k.publicPath));
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.report?.rto.projected_full_restore_seconds).toBe(20);
    const { markdown } = await loadEvidence(store, 'drill-20261202-010203');
    expect(markdown).toContain('DR drill evidence drill-20261202-010203: PASSED');
    expect(markdown).toContain('| RTO: the whole backup (1000 B) at that rate | 20.0 s |');
  });

  it('keeps the private key to its owner and never overwrites a key file', () => {
    const k = keys();
    expect(statSync(k.privatePath).mode & 0o777).toBe(0o600);
    expect(() => keys()).toThrow(/exists already/);
  });

  it.each([
    ['report.json', (s: string) => s.replace('"records": 10,', '"records": 11,')],
    ['report.md', (s: string) => s.replace('PASSED', 'PASSED!')],
  ])('fails when %s is edited after signing, naming the file', async (file, edit) => {
    const k = keys();
    await writeEvidence(store, report(), keyFileSigner(k.privatePath));
    const path = join(dir, 'backups', 'evidence', 'drill-20261202-010203', file);
    writeFileSync(path, edit(readFileSync(path, 'utf8')));
    const v = await verifyEvidence(store, 'drill-20261202-010203', keyFileVerifier(k.publicPath));
    expect(v.ok).toBe(false);
    expect(v.problems).toHaveLength(1);
    expect(v.problems[0]).toMatch(new RegExp(`${file.replace('.', '\\.')} was changed after signing`));
  });

  it('fails when signature.json is edited to cover an edited report', async () => {
    const k = keys();
    await writeEvidence(store, report(), keyFileSigner(k.privatePath));
    const folder = join(dir, 'backups', 'evidence', 'drill-20261202-010203');
    const reportPath = join(folder, 'report.json');
    const edited = readFileSync(reportPath, 'utf8').replace('"ok": true', '"ok": false');
    writeFileSync(reportPath, edited);
    const sigPath = join(folder, 'signature.json');
    const sig = JSON.parse(readFileSync(sigPath, 'utf8'));
    const { createHash } = await import('node:crypto');
    sig.files['report.json'].sha256 = createHash('sha256').update(edited).digest('hex');
    sig.files['report.json'].bytes = Buffer.byteLength(edited);
    writeFileSync(sigPath, JSON.stringify(sig));
    const v = await verifyEvidence(store, 'drill-20261202-010203', keyFileVerifier(k.publicPath));
    expect(v.problems).toEqual([
      expect.stringMatching(/signature in evidence\/drill-20261202-010203\/signature.json does not verify/),
    ]);
  });

  it('fails with another key, naming both key ids', async () => {
    const mine = keys('mine');
    const theirs = keys('theirs');
    await writeEvidence(store, report(), keyFileSigner(theirs.privatePath));
    const v = await verifyEvidence(store, 'drill-20261202-010203', keyFileVerifier(mine.publicPath));
    expect(v.ok).toBe(false);
    expect(v.problems[0]).toBe(
      `signed with key ${theirs.keyId}, but the key given to verify is ${mine.keyId}`,
    );
    expect(v.problems[1]).toMatch(/does not verify/);
  });

  it('fails when the signature is missing or a signed file deleted', async () => {
    const k = keys();
    await writeEvidence(store, report('drill-a'), keyFileSigner(k.privatePath));
    await writeEvidence(store, report('drill-b'), keyFileSigner(k.privatePath));
    rmSync(join(dir, 'backups', 'evidence', 'drill-a', 'signature.json'));
    rmSync(join(dir, 'backups', 'evidence', 'drill-b', 'report.md'));
    const a = await verifyEvidence(store, 'drill-a', keyFileVerifier(k.publicPath));
    expect(a.problems).toEqual([expect.stringMatching(/signature.json is missing/)]);
    const b = await verifyEvidence(store, 'drill-b', keyFileVerifier(k.publicPath));
    expect(b.problems).toEqual(['evidence/drill-b/report.md is missing']);
  });

  it('fails when a signature is copied from another drill', async () => {
    const k = keys();
    await writeEvidence(store, report('drill-a'), keyFileSigner(k.privatePath));
    await writeEvidence(store, report('drill-b'), keyFileSigner(k.privatePath));
    const root = join(dir, 'backups', 'evidence');
    for (const f of ['report.json', 'report.md', 'signature.json'])
      writeFileSync(join(root, 'drill-b', f), readFileSync(join(root, 'drill-a', f)));
    const v = await verifyEvidence(store, 'drill-b', keyFileVerifier(k.publicPath));
    expect(v.problems).toEqual([
      'evidence/drill-b/signature.json was made for evidence drill-a, not drill-b (copied from another drill)',
      'report.json names evidence drill-a, not drill-b',
    ]);
  });

  it('never replaces stored evidence', async () => {
    const k = keys();
    await writeEvidence(store, report(), keyFileSigner(k.privatePath));
    await expect(writeEvidence(store, report(), keyFileSigner(k.privatePath))).rejects.toThrow(
      /exists already; evidence is never overwritten/,
    );
    const v = await verifyEvidence(store, 'drill-20261202-010203', keyFileVerifier(k.privatePath));
    expect(v.ok).toBe(true);
  });

  it('lists evidence newest first with its verdict', async () => {
    const k = keys();
    await writeEvidence(store, report('drill-20261101-000000', false), keyFileSigner(k.privatePath));
    await writeEvidence(store, report('drill-20261201-000000'), keyFileSigner(k.privatePath));
    expect((await listEvidence(store)).map((e) => [e.id, e.ok, e.signed])).toEqual([
      ['drill-20261201-000000', true, true],
      ['drill-20261101-000000', false, true],
    ]);
  });

  it('says what is wrong with a key file', () => {
    expect(() => keyFileSigner(join(dir, 'nope.key'))).toThrow(
      /Cannot read the evidence signing key file .*nope.key \(ENOENT\)/,
    );
    writeFileSync(join(dir, 'bad.key'), 'not a key');
    expect(() => keyFileSigner(join(dir, 'bad.key'))).toThrow(
      /bad.key is not an Ed25519 key \(or, to verify, an EC or RSA public key\) in PEM form/,
    );
    const k = keys();
    expect(() => keyFileSigner(k.publicPath)).toThrow(/is a public key; signing needs the private key/);
  });

  it.each([
    ['ECDSA_SHA_256', 'ec', { namedCurve: 'P-256' }, (p: Buffer, k: KeyObject) => sign('sha256', p, k)],
    [
      'RSASSA_PSS_SHA_256',
      'rsa',
      { modulusLength: 2048 },
      (p: Buffer, k: KeyObject) => sign('sha256', p, { key: k, padding: 6, saltLength: 32 }),
    ],
  ] as const)(
    'verifies %s signatures (a KMS key) with its public key as PEM',
    async (algorithm, type, opts, signWith) => {
      const { privateKey, publicKey } = generateKeyPairSync(type as 'ec', opts as { namedCurve: string });
      const signer = {
        keyId: 'arn:aws:kms:us-east-1:111122223333:key/test',
        fingerprint: publicKeyFingerprint(publicKey),
        algorithm,
        sign: async (p: Buffer) => signWith(p, privateKey),
      };
      await writeEvidence(store, report(), signer);
      const pub = join(dir, 'kms.pub');
      writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
      const v = await verifyEvidence(store, 'drill-20261202-010203', keyFileVerifier(pub));
      expect(v.problems).toEqual([]);
      expect(v.key_id).toBe('arn:aws:kms:us-east-1:111122223333:key/test');
      const other = generateKeyPairSync(type as 'ec', opts as { namedCurve: string }).publicKey;
      writeFileSync(join(dir, 'other.pub'), other.export({ type: 'spki', format: 'pem' }));
      const w = await verifyEvidence(store, 'drill-20261202-010203', keyFileVerifier(join(dir, 'other.pub')));
      expect(w.problems).toHaveLength(2);
    },
  );
});
