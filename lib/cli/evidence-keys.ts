import {
  type EvidenceSigner,
  type EvidenceVerifier,
  keyFileSigner,
  keyFileVerifier,
  kmsSigner,
  kmsVerifier,
} from '../evidence/index.ts';
import { UsageError } from './args.ts';

/** The key options of `drill` (signing) and `evidence verify` (checking). */
export const evidenceKeyOptions = {
  'evidence-key': { type: 'string' },
  'evidence-kms-key-id': { type: 'string' },
} as const;

/** The variable that names the signing key file when --evidence-key is not given. */
export const EVIDENCE_KEY_ENV = 'KAFKA_BACKUP_EVIDENCE_KEY';

/** The drill's signer: an Ed25519 key file, or a KMS key; undefined when neither is given (unsigned evidence). */
export async function evidenceSigner(values: Record<string, unknown>): Promise<EvidenceSigner | undefined> {
  const file = (values['evidence-key'] as string | undefined) ?? process.env[EVIDENCE_KEY_ENV];
  const kms = values['evidence-kms-key-id'] as string | undefined;
  if (file && kms) throw new UsageError('give --evidence-key or --evidence-kms-key-id, not both');
  const region = values['region'] as string | undefined;
  if (kms) return kmsSigner({ keyId: kms, ...(region ? { region } : {}) });
  return file ? keyFileSigner(file) : undefined;
}

/** The key `evidence verify` trusts: a public (or private) key file, or a KMS key's public half. */
export async function evidenceVerifier(
  values: Record<string, unknown>,
  usage: string,
): Promise<EvidenceVerifier> {
  const file = (values['public-key'] as string | undefined) ?? (values['evidence-key'] as string | undefined);
  const kms = values['kms-key-id'] as string | undefined;
  const region = values['region'] as string | undefined;
  if (file && kms)
    throw new UsageError('give --public-key or --kms-key-id, not both', { hint: `Usage: ${usage}` });
  if (kms) return kmsVerifier({ keyId: kms, ...(region ? { region } : {}) });
  if (file) return keyFileVerifier(file);
  throw new UsageError(
    'evidence verify: give the key to check against: --public-key FILE or --kms-key-id ARN',
    {
      hint: 'Verification never trusts a key named in the evidence itself; use the key your drills sign with.',
    },
  );
}
