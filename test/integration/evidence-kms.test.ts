import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EvidenceReport,
  keyFileVerifier,
  kmsSigner,
  kmsVerifier,
  verifyEvidence,
  writeEvidence,
} from '../../lib/evidence/index.ts';
import { FilesystemStore } from '../../lib/storage/filesystem-store.ts';
import { type MotoServer, startMotoServer } from '../support/moto-server.ts';

// Evidence signed by a KMS asymmetric key as the drill workflow signs it, against moto's KMS (a real HTTP server
// speaking the KMS API: CreateKey, GetPublicKey, Sign), verified through KMS and offline with the key's PEM.
describe('evidence signed with a KMS key', () => {
  let moto: MotoServer;
  let client: KMSClient;
  const dir = mkdtempSync(join(tmpdir(), 'kb-evidence-kms-'));
  const store = new FilesystemStore(join(dir, 'backups'));
  beforeAll(async () => {
    moto = await startMotoServer();
    client = new KMSClient({
      region: 'us-east-1',
      endpoint: moto.endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  }, 120_000);
  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  const report = (id: string): EvidenceReport => ({
    format_version: 1,
    id,
    kind: 'backup',
    ok: true,
    started_at: '2026-12-02T01:00:00.000Z',
    finished_at: '2026-12-02T01:05:00.000Z',
    triggered_by: { via: 'schedule', principal: 'kafka-backup-drill', execution: 'arn:aws:states:x' },
    versions: { kafka_backup: '0.1.0', node: process.version },
    restored: { backup_id: 'b1', location: 's3://dr/backups', topics: [], records: 0, bytes: 0 },
    checks: [],
    rpo: { backup_age_seconds: 60, replication_delay_seconds: 5 },
    rto: {
      restore_seconds: 1,
      restored_bytes: 0,
      bytes_per_second: null,
      full_backup_bytes: 0,
      projected_full_restore_seconds: null,
    },
    steps: [],
  });

  it.each(['ECC_NIST_P256', 'RSA_2048'] as const)(
    'signs with a %s key; verifies via KMS and offline; an edit fails',
    async (spec) => {
      const key = await client.send(new CreateKeyCommand({ KeyUsage: 'SIGN_VERIFY', KeySpec: spec }));
      const keyId = key.KeyMetadata!.KeyId!;
      const id = `drill-${spec.toLowerCase()}`;
      const signer = await kmsSigner({ keyId, client });
      expect(signer.algorithm).toBe(spec === 'RSA_2048' ? 'RSASSA_PSS_SHA_256' : 'ECDSA_SHA_256');
      await writeEvidence(store, report(id), signer);
      const viaKms = await kmsVerifier({ keyId, client });
      expect((await verifyEvidence(store, id, viaKms)).problems).toEqual([]);
      const pem = join(dir, `${spec}.pub`);
      writeFileSync(pem, viaKms.publicKeyPem);
      expect((await verifyEvidence(store, id, keyFileVerifier(pem))).problems).toEqual([]);
      const path = join(dir, 'backups', 'evidence', id, 'report.json');
      writeFileSync(
        path,
        readFileSync(path, 'utf8').replace('"backup_age_seconds": 60', '"backup_age_seconds": 6'),
      );
      const edited = await verifyEvidence(store, id, viaKms);
      expect(edited.ok).toBe(false);
      expect(edited.problems).toEqual([expect.stringMatching(/report\.json was changed after signing/)]);
    },
  );

  it('names the key when it does not exist, or is not a signing key', async () => {
    await expect(kmsSigner({ keyId: 'alias/nope', client })).rejects.toThrow(
      /KMS key alias\/nope does not exist/,
    );
    const key = await client.send(new CreateKeyCommand({ KeyUsage: 'ENCRYPT_DECRYPT', KeySpec: 'RSA_2048' }));
    await expect(kmsSigner({ keyId: key.KeyMetadata!.KeyId!, client })).rejects.toThrow(
      /is for ENCRYPT_DECRYPT, not signing/,
    );
  });
});
