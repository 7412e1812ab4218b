import { writeFileSync } from 'node:fs';
import { ExitCode } from '../../errors.ts';
import {
  generateEvidenceKeyPair,
  kmsVerifier,
  listEvidence,
  loadEvidence,
  verifyEvidence,
} from '../../evidence/index.ts';
import { outputFormat, parseCommandArgs, requireOption, storageOptions, UsageError } from '../args.ts';
import { evidenceVerifier } from '../evidence-keys.ts';
import { renderTable } from '../output.ts';
import { storeFromArgs } from '../storage-arg.ts';

const USAGE = `kafka-backup evidence   DR-drill evidence reports: list, show, verify their signatures, make keys
  kafka-backup evidence list --path URL [--format json|table]
  kafka-backup evidence show ID --path URL [--format json|markdown]
  kafka-backup evidence verify ID --path URL (--public-key FILE | --kms-key-id ARN) [--region R] [--format json|table]
  kafka-backup evidence keygen --out NAME          (writes NAME.key, mode 600, and NAME.pub: an Ed25519 key pair)
  kafka-backup evidence public-key --kms-key-id ARN --out FILE.pub [--region R]
common: [--s3-endpoint URL] [--region R]`;

export async function evidenceCommand(argv: string[], out: (s: string) => void): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'evidence',
    argv,
    {
      ...storageOptions,
      'public-key': { type: 'string' },
      'kms-key-id': { type: 'string' },
      out: { type: 'string' },
    },
    USAGE,
  );
  const [action, id] = positionals;
  if (values.help || !action) {
    out(USAGE);
    return values.help ? ExitCode.ok : ExitCode.usage;
  }
  switch (action) {
    case 'keygen': {
      const k = generateEvidenceKeyPair(requireOption(values, 'out', 'evidence keygen', USAGE));
      out(
        `wrote ${k.privatePath} (private: keep it where the drills run) and ${k.publicPath} (give it to auditors)`,
      );
      out(`key id ${k.keyId}`);
      return ExitCode.ok;
    }
    case 'public-key': {
      const keyId = requireOption(values, 'kms-key-id', 'evidence public-key', USAGE);
      const file = requireOption(values, 'out', 'evidence public-key', USAGE);
      const v = await kmsVerifier({ keyId, ...(values.region ? { region: values.region } : {}) });
      writeFileSync(file, v.publicKeyPem, { flag: 'wx' });
      out(
        `wrote the public key of ${v.keyId} to ${file}: \`evidence verify --public-key ${file}\` needs no AWS access`,
      );
      return ExitCode.ok;
    }
    case 'list': {
      const store = storeFromArgs(values, requireOption(values, 'path', 'evidence list', USAGE));
      const all = await listEvidence(store);
      if (outputFormat(values, 'evidence list') === 'json') {
        out(JSON.stringify({ location: store.location, evidence: all }, null, 2));
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
    }
    case 'show': {
      if (!id) throw new UsageError('evidence show: give the evidence id', { hint: `Usage: ${USAGE}` });
      const store = storeFromArgs(values, requireOption(values, 'path', 'evidence show', USAGE));
      const { report, markdown } = await loadEvidence(store, id);
      const f = values.format ?? 'markdown';
      if (f === 'json') out(JSON.stringify(report, null, 2));
      else if (f === 'markdown') out(markdown.trimEnd());
      else throw new UsageError(`evidence show: --format must be json or markdown, not "${f}"`);
      return ExitCode.ok;
    }
    case 'verify': {
      if (!id) throw new UsageError('evidence verify: give the evidence id', { hint: `Usage: ${USAGE}` });
      const store = storeFromArgs(values, requireOption(values, 'path', 'evidence verify', USAGE));
      const verifier = await evidenceVerifier(values, USAGE);
      const v = await verifyEvidence(store, id, verifier);
      if (outputFormat(values, 'evidence verify') === 'json') {
        const { report, ...rest } = v;
        out(JSON.stringify({ ...rest, drill_passed: report?.ok ?? null }, null, 2));
      } else if (v.ok) {
        out(
          `evidence ${id}: signature valid (${v.algorithm}, key ${v.key_id}, signed ${v.signed_at}); the drill ${v.report?.ok ? 'PASSED' : 'FAILED'}`,
        );
      } else {
        out(`evidence ${id}: NOT VERIFIED`);
        for (const p of v.problems) out(`  - ${p}`);
      }
      return v.ok ? ExitCode.ok : ExitCode.verificationFailed;
    }
    default:
      throw new UsageError(`evidence: unknown action "${action}"`, {
        hint: 'Actions: list, show, verify, keygen, public-key.',
      });
  }
}
