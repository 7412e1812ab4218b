import { writeFileSync } from 'node:fs';
import { ExitCode } from '../../errors.ts';
import {
  generateEvidenceKeyPair,
  kmsVerifier,
  listEvidence,
  loadEvidence,
  verifyEvidence,
} from '../../evidence/index.ts';
import { defineCommand } from '../command.ts';
import { EVIDENCE_VERIFY_FLAGS, evidenceVerifier } from '../evidence-keys.ts';
import { ENCRYPTION_FLAGS, FORMAT_FLAG, LOCATION_FLAGS } from '../flags.ts';
import { jsonDocument, renderTable } from '../output.ts';
import type { CommandGroupSpec } from '../spec.ts';
import { storeFromArgs } from '../storage-arg.ts';

const LOCATION = {
  path: {
    ...LOCATION_FLAGS.path,
    required: true,
    description: 'The location the drill read from: its evidence is under evidence/ there.',
  },
  region: LOCATION_FLAGS.region,
  's3-endpoint': LOCATION_FLAGS['s3-endpoint'],
  ...ENCRYPTION_FLAGS,
} as const;
const ENV = ['KAFKA_BACKUP_S3_ENDPOINT', 'AWS_REGION', 'AWS_ENDPOINT_URL_S3', 'AWS_PROFILE'] as const;
const ID = {
  name: 'ID',
  description: 'The evidence id (drill-<time>...), as evidence list shows it.',
} as const;

export const evidenceListCommand = defineCommand(
  {
    name: 'evidence list',
    summary: 'list the drill evidence in a location, newest first',
    flags: { ...LOCATION, format: FORMAT_FLAG },
    examples: [
      {
        command:
          'kafka-backup evidence list --path s3://kafka-backups-dr/us-west-2/hourly --region us-east-1',
        does: 'Every drill that read from the DR bucket, newest first, with its verdict (not yet verified).',
      },
    ],
    env: ENV,
    json: '{format_version, location, evidence: [{id, ok, kind, started_at, signed}]}',
    exitCodes: [ExitCode.usage, ExitCode.access],
  },
  async ({ values }, out) => {
    const store = storeFromArgs(values, values.path);
    const all = await listEvidence(store);
    if (values.format === 'json') {
      out(jsonDocument({ location: store.location, evidence: all }));
      return ExitCode.ok;
    }
    if (all.length === 0) {
      out(`no drill evidence in ${store.location}`);
      return ExitCode.ok;
    }
    out(
      renderTable(
        ['EVIDENCE ID', 'KIND', 'STARTED', 'RESULT', 'SIGNED'],
        all.map((e) => [
          e.id,
          e.kind,
          e.started_at,
          e.ok === null ? 'unreadable' : e.ok ? 'passed' : 'FAILED',
          e.signed ? 'yes' : 'NO',
        ]),
      ),
    );
    return ExitCode.ok;
  },
);

export const evidenceShowCommand = defineCommand(
  {
    name: 'evidence show',
    summary: 'print one drill evidence report (Markdown, or its JSON)',
    positionals: [ID],
    flags: {
      ...LOCATION,
      format: {
        type: 'string',
        choices: ['markdown', 'json'],
        default: 'markdown',
        description: 'report.md as stored, or report.json (docs/format.md "DR-drill evidence").',
      },
    },
    examples: [
      {
        command: 'kafka-backup evidence show drill-20261202-040000-1a2b --path /var/backups/kafka',
        does: 'The report an auditor reads: RPO, RTO, what was restored, every check.',
      },
    ],
    env: ENV,
    json: 'the evidence report (docs/format.md), with format_version',
    exitCodes: [ExitCode.usage, ExitCode.access, ExitCode.notFound, ExitCode.verificationFailed],
  },
  async ({ values, positionals }, out) => {
    const store = storeFromArgs(values, values.path);
    const { report, markdown } = await loadEvidence(store, positionals[0]!);
    out(values.format === 'json' ? JSON.stringify(report, null, 2) : markdown.trimEnd());
    return ExitCode.ok;
  },
);

export const evidenceVerifyCommand = defineCommand(
  {
    name: 'evidence verify',
    summary: 'check an evidence report against your key: any edit fails, naming what does not match',
    description: [
      'Checks signature.json against the key you trust (never one the evidence names), then the SHA-256 of ' +
        'report.json and report.md against what was signed. Exits 0 when everything matches (whatever the drill ' +
        'found: the verdict is printed), 5 when anything does not, listing each difference.',
    ],
    positionals: [ID],
    flags: { ...LOCATION, ...EVIDENCE_VERIFY_FLAGS, format: FORMAT_FLAG },
    examples: [
      {
        command:
          'kafka-backup evidence verify drill-20261202-040000-1a2b --path /var/backups/kafka --public-key drill-signing.pub',
        does: 'Check a CLI drill signed with an Ed25519 key file.',
      },
      {
        command:
          'kafka-backup evidence verify drill-20261202-040000-1a2b --path s3://kafka-backups-dr/us-west-2/hourly --evidence-kms-key-id arn:aws:kms:us-east-1:111122223333:key/...',
        does: "Check a scheduled drill against the DR stack's evidence key.",
      },
    ],
    env: ENV,
    json: '{format_version, id, ok, problems: [..], key_id, algorithm, signed_at, drill_passed}',
    exitCodes: [ExitCode.usage, ExitCode.access, ExitCode.notFound, ExitCode.verificationFailed],
  },
  async ({ values, positionals }, out) => {
    const id = positionals[0]!;
    const store = storeFromArgs(values, values.path);
    const verifier = await evidenceVerifier(values);
    const v = await verifyEvidence(store, id, verifier);
    if (values.format === 'json') {
      const { report, ...rest } = v;
      out(jsonDocument({ ...rest, drill_passed: report?.ok ?? null }));
    } else if (v.ok) {
      out(
        `evidence ${id}: signature valid (${v.algorithm}, key ${v.key_id}, signed ${v.signed_at}); the drill ${v.report?.ok ? 'PASSED' : 'FAILED'}`,
      );
    } else {
      out(`evidence ${id}: NOT VERIFIED`);
      for (const p of v.problems) out(`  - ${p}`);
    }
    return v.ok ? ExitCode.ok : ExitCode.verificationFailed;
  },
);

export const evidenceKeygenCommand = defineCommand(
  {
    name: 'evidence keygen',
    summary: 'make an Ed25519 key pair for signing drill evidence',
    flags: {
      out: {
        type: 'string',
        value: 'NAME',
        required: true,
        description: 'Writes NAME.key (private, mode 600) and NAME.pub; never overwrites either.',
      },
    },
    examples: [
      {
        command: 'kafka-backup evidence keygen --out drill-signing',
        does: 'drill-signing.key for the machine that runs drills, drill-signing.pub for auditors.',
      },
    ],
    exitCodes: [ExitCode.usage],
  },
  async ({ values }, out) => {
    const k = generateEvidenceKeyPair(values.out);
    out(
      `wrote ${k.privatePath} (private: keep it where the drills run) and ${k.publicPath} (give it to auditors)`,
    );
    out(`key id ${k.keyId}`);
    return ExitCode.ok;
  },
);

export const evidencePublicKeyCommand = defineCommand(
  {
    name: 'evidence public-key',
    summary: "save a KMS signing key's public half as PEM, to verify without AWS access",
    flags: {
      'evidence-kms-key-id': { ...EVIDENCE_VERIFY_FLAGS['evidence-kms-key-id'], required: true },
      out: {
        type: 'string',
        value: 'FILE.pub',
        required: true,
        description: 'Where to write it (never overwritten).',
      },
      region: { ...LOCATION_FLAGS.region, description: "The KMS key's region." },
    },
    examples: [
      {
        command:
          'kafka-backup evidence public-key --evidence-kms-key-id arn:aws:kms:us-east-1:111122223333:key/... --out dr-evidence.pub',
        does: 'Then evidence verify --public-key dr-evidence.pub works anywhere.',
      },
    ],
    env: ['AWS_REGION', 'AWS_PROFILE'],
    exitCodes: [ExitCode.usage, ExitCode.access],
  },
  async ({ values }, out) => {
    const v = await kmsVerifier({
      keyId: values['evidence-kms-key-id'],
      ...(values.region ? { region: values.region } : {}),
    });
    writeFileSync(values.out, v.publicKeyPem, { flag: 'wx' });
    out(`wrote the public key of ${v.keyId} to ${values.out}`);
    return ExitCode.ok;
  },
);

export const EVIDENCE_SUBCOMMANDS = [
  evidenceListCommand,
  evidenceShowCommand,
  evidenceVerifyCommand,
  evidenceKeygenCommand,
  evidencePublicKeyCommand,
];

export const EVIDENCE_GROUP = {
  name: 'evidence',
  summary: 'DR-drill evidence: list, show, verify signatures (an edit fails), make signing keys',
  description: [
    'Every drill stores a report next to the backups it read (evidence/<id>/report.json, report.md) and, signed ' +
      'by an Ed25519 key file or a KMS key, signature.json. These commands read and check them.',
  ],
  subcommands: EVIDENCE_SUBCOMMANDS.map((c) => c.spec),
} as const satisfies CommandGroupSpec;
