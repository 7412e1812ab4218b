import { UsageError } from '../errors.ts';
import {
  type EvidenceSigner,
  type EvidenceVerifier,
  keyFileSigner,
  keyFileVerifier,
  kmsSigner,
  kmsVerifier,
} from '../evidence/index.ts';
import { cliEnv } from './environment.ts';
import type { FlagSpec } from './spec.ts';

/** The drill's signing key: an Ed25519 key file, or an AWS KMS asymmetric key. */
export const EVIDENCE_SIGNING_FLAGS = {
  'evidence-key': {
    type: 'string',
    value: 'FILE.key',
    defaultText: '$KAFKA_BACKUP_EVIDENCE_KEY (none: the evidence is stored unsigned, with a warning)',
    description:
      'Sign the evidence report with this Ed25519 private key (kafka-backup evidence keygen makes one).',
  },
  'evidence-kms-key-id': {
    type: 'string',
    value: 'ARN',
    description:
      'Sign the evidence report with this AWS KMS asymmetric key (KeyUsage SIGN_VERIFY, ECC_NIST_P256 or RSA): needs kms:Sign and kms:GetPublicKey.',
  },
} as const satisfies Record<string, FlagSpec>;

/** The key `evidence verify` trusts. */
export const EVIDENCE_VERIFY_FLAGS = {
  'public-key': {
    type: 'string',
    value: 'FILE.pub',
    description:
      "Check against this public key: NAME.pub from evidence keygen, or a KMS key's public half (evidence public-key).",
  },
  'evidence-kms-key-id': {
    type: 'string',
    value: 'ARN',
    description: "Check against this KMS key's public half (kms:GetPublicKey), checked locally.",
  },
} as const satisfies Record<string, FlagSpec>;

export async function evidenceSigner(values: {
  'evidence-key'?: string | undefined;
  'evidence-kms-key-id'?: string | undefined;
  region?: string | undefined;
}): Promise<EvidenceSigner | undefined> {
  const file = values['evidence-key'] ?? cliEnv('KAFKA_BACKUP_EVIDENCE_KEY');
  const kms = values['evidence-kms-key-id'];
  if (file && kms)
    throw new UsageError('Give --evidence-key or --evidence-kms-key-id, not both', {
      hint: 'A drill signs its evidence with one key.',
    });
  if (kms) return kmsSigner({ keyId: kms, ...(values.region ? { region: values.region } : {}) });
  return file ? keyFileSigner(file) : undefined;
}

export async function evidenceVerifier(values: {
  'public-key'?: string | undefined;
  'evidence-kms-key-id'?: string | undefined;
  region?: string | undefined;
}): Promise<EvidenceVerifier> {
  const file = values['public-key'];
  const kms = values['evidence-kms-key-id'];
  if (file && kms)
    throw new UsageError('Give --public-key or --evidence-kms-key-id, not both', {
      hint: 'Verification checks against one key.',
    });
  if (kms) return kmsVerifier({ keyId: kms, ...(values.region ? { region: values.region } : {}) });
  if (file) return keyFileVerifier(file);
  throw new UsageError('Missing flag for kafka-backup evidence verify: give the key to check against', {
    hint: 'Use --public-key FILE.pub or --evidence-kms-key-id ARN: verification never trusts a key named in the evidence itself.',
  });
}
