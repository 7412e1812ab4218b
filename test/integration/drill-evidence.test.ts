import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaCluster } from '../../lib/kafka/index.ts';
import { runCli, tempDir, writeConfig } from '../support/cli.ts';
import { ground, uniqueName } from '../support/ground-env.ts';
import { buf, createTopic, drSettings, primarySettings, produce } from '../support/kafka-fixtures.ts';

// The CLI's drills write signed evidence next to the backups; `evidence verify` checks it against the key the
// user trusts, and fails naming the file after any edit.
describe('drill evidence through the CLI', () => {
  const primary = new KafkaCluster(primarySettings(), 'source');
  const dr = new KafkaCluster(drSettings(), 'target');
  const dir = tempDir();
  const backups = join(dir, 'backups');
  afterAll(async () => {
    await primary.close();
    await dr.close();
  });

  it('a synthetic drill signs its evidence; list, show and verify read it; an edit fails verification', async () => {
    const key = join(dir, 'drill-signing');
    const keygen = await runCli(['evidence', 'keygen', '--out', key]);
    expect(keygen.code, keygen.stderr).toBe(0);
    const r = await runCli([
      'drill',
      '--source-bootstrap',
      ground().primary,
      '--target-bootstrap',
      ground().dr,
      '--path',
      backups,
      '--records',
      '500',
      '--record-size',
      '100',
      '--partitions',
      '2',
      '--evidence-key',
      `${key}.key`,
      '--format',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const drill = JSON.parse(r.stdout) as { evidence: { id: string; signed: boolean } };
    expect(drill.evidence.signed).toBe(true);
    const id = drill.evidence.id;

    const list = await runCli(['evidence', 'list', '--path', backups, '--format', 'json']);
    expect(JSON.parse(list.stdout).evidence).toEqual([
      expect.objectContaining({ id, ok: true, kind: 'synthetic', signed: true }),
    ]);
    const show = await runCli(['evidence', 'show', id, '--path', backups]);
    expect(show.stdout).toContain(`# DR drill evidence ${id}: PASSED`);
    expect(show.stdout).toContain('| consumer group resumes at its committed offset | passed |');

    const ok = await runCli(['evidence', 'verify', id, '--path', backups, '--public-key', `${key}.pub`]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(
      /signature valid \(ed25519, key ed25519:[0-9a-f]{32}, signed .*\); the drill PASSED/,
    );

    const md = join(backups, 'evidence', id, 'report.md');
    writeFileSync(md, readFileSync(md, 'utf8').replace('PASSED', 'PASSED (reviewed)'));
    const bad = await runCli(['evidence', 'verify', id, '--path', backups, '--public-key', `${key}.pub`]);
    expect(bad.code).toBe(5);
    expect(bad.stdout).toContain(`evidence ${id}: NOT VERIFIED`);
    expect(bad.stdout).toContain(`evidence/${id}/report.md was changed after signing`);

    const noKey = await runCli(['evidence', 'verify', id, '--path', backups]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('give the key to check against');
  });

  it('a drill on the newest backup restores it under a namespace, with evidence; other topics untouched', async () => {
    const topic = uniqueName('evidence-src');
    await createTopic(primary, { name: topic, partitions: 2 });
    await produce(
      primary,
      topic,
      Array.from({ length: 40 }, (_, i) => ({ key: buf(`k${i}`), value: buf(`v${i}`), partition: i % 2 })),
    );
    const store = join(dir, 'real');
    const b = writeConfig(
      dir,
      'b.yaml',
      `mode: backup\nbackup_id: real-1\nsource:\n  bootstrap_servers: ["${ground().primary}"]\n  topics:\n    include: ["${topic}"]\nstorage:\n  path: ${store}\n`,
    );
    expect((await runCli(['backup', '--config', b])).code).toBe(0);
    const rc = writeConfig(
      dir,
      'r.yaml',
      `mode: restore\nbackup_id: latest\ntarget:\n  bootstrap_servers: ["${ground().dr}"]\nstorage:\n  path: ${store}\n`,
    );
    const before = await dr.listTopics();
    const r = await runCli([
      'drill',
      '--from-backup',
      '--restore-config',
      rc,
      '--namespace',
      'audit',
      '--evidence-key',
      join(dir, 'drill-signing.key'),
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /DR drill on backup real-1 PASSED: 40 records of 1 topics restored under audit-\d{8}-\d{6}-[0-9a-f]{4}\./,
    );
    expect(r.stdout).toMatch(/evidence drill-\S+ in .* \(signed by ed25519:/);
    expect(await dr.listTopics()).toEqual(before);
    const id = /evidence (drill-\S+) in/.exec(r.stdout)![1]!;
    const v = await runCli([
      'evidence',
      'verify',
      id,
      '--path',
      store,
      '--public-key',
      join(dir, 'drill-signing.pub'),
    ]);
    expect(v.code, v.stdout).toBe(0);
    await primary.deleteTopics([topic]);
  });
});
