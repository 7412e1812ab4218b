import { createHash, type KeyObject } from 'node:crypto';
import { z } from 'zod';

/**
 * `signature.json`: the SHA-256 of each evidence file and one signature over them. The signed payload is a fixed
 * preamble plus the canonical JSON (sorted keys, no spaces) of everything in signature.json except the signature,
 * so the key id, algorithm, time and every digest are covered: changing any of them, or any byte of a report,
 * makes verification fail and name what differs.
 */
export const SIGNATURE_FORMAT_VERSION = 1;
const PREAMBLE = 'kafka-backup evidence signature v1\n';

export const SignatureAlgorithm = z.enum(['ed25519', 'ECDSA_SHA_256', 'RSASSA_PSS_SHA_256']);
export type SignatureAlgorithm = z.infer<typeof SignatureAlgorithm>;

export interface EvidenceSigner {
  /** A file key's fingerprint (`ed25519:…`) or the KMS key's ARN: for people. */
  readonly keyId: string;
  /** SHA-256 of the public key (SubjectPublicKeyInfo DER), hex: what verification matches keys by. */
  readonly fingerprint: string;
  readonly algorithm: SignatureAlgorithm;
  sign(payload: Buffer): Promise<Buffer>;
}

export interface EvidenceVerifier {
  readonly keyId: string;
  readonly fingerprint: string;
  verify(payload: Buffer, signature: Buffer, algorithm: SignatureAlgorithm): Promise<boolean>;
}

const FileDigest = z.strictObject({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int() });

export const EvidenceSignature = z.strictObject({
  format_version: z.literal(SIGNATURE_FORMAT_VERSION),
  evidence_id: z.string(),
  algorithm: SignatureAlgorithm,
  key_id: z.string(),
  /** SHA-256 of the signing key's public half (SPKI DER), hex. */
  key_fingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  signed_at: z.iso.datetime(),
  files: z.record(z.string(), FileDigest),
  /** Base64. */
  signature: z.string(),
});
export type EvidenceSignature = z.infer<typeof EvidenceSignature>;

export function sha256Hex(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex');
}

export function publicKeyFingerprint(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' }));
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The bytes a signature covers. */
export function signedPayload(s: Omit<EvidenceSignature, 'signature'>): Buffer {
  const { signature: _, ...rest } = s as EvidenceSignature;
  return Buffer.from(PREAMBLE + canonical(rest), 'utf8');
}

export async function signEvidence(
  evidenceId: string,
  files: Record<string, Uint8Array>,
  signer: EvidenceSigner,
  now: Date,
): Promise<EvidenceSignature> {
  const unsigned = {
    format_version: SIGNATURE_FORMAT_VERSION,
    evidence_id: evidenceId,
    algorithm: signer.algorithm,
    key_id: signer.keyId,
    key_fingerprint: signer.fingerprint,
    signed_at: now.toISOString(),
    files: Object.fromEntries(
      Object.entries(files).map(([name, body]) => [name, { sha256: sha256Hex(body), bytes: body.length }]),
    ),
  } as const;
  const signature = await signer.sign(signedPayload(unsigned));
  return { ...unsigned, signature: signature.toString('base64') };
}
