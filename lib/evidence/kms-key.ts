import { constants, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { StorageAccessError, UserError } from '../errors.ts';
import {
  type EvidenceSigner,
  type EvidenceVerifier,
  publicKeyFingerprint,
  type SignatureAlgorithm,
} from './signature.ts';

/**
 * Evidence signed by an AWS KMS asymmetric key (KeyUsage SIGN_VERIFY): the private half never leaves KMS, so a
 * report verifies only if the drill's role really signed it. ECC_NIST_P256 keys sign with ECDSA_SHA_256, RSA keys
 * with RSASSA_PSS_SHA_256. Verification needs only kms:GetPublicKey (then checks locally), or a copy of the public
 * key as a PEM file (`kafka-backup evidence public-key` writes it), which needs no AWS access at all.
 */
export interface KmsKeyOptions {
  keyId: string;
  region?: string;
  /** An endpoint override (tests, VPC endpoints); else AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL / AWS's. */
  endpoint?: string;
  client?: KMSClient;
}

function clientOf(o: KmsKeyOptions): KMSClient {
  if (o.client) return o.client;
  const endpoint = o.endpoint ?? process.env['AWS_ENDPOINT_URL_KMS'];
  return new KMSClient({
    ...(o.region ? { region: o.region } : {}),
    ...(endpoint ? { endpoint } : {}),
  });
}

function kmsError(e: unknown, keyId: string, action: string): Error {
  const name = (e as { name?: string }).name ?? '';
  const message = e instanceof Error ? e.message : String(e);
  if (name === 'NotFoundException')
    return new UserError(`KMS key ${keyId} does not exist (${action})`, {
      hint: 'Check the key id or ARN and the region; the drill stack outputs its evidence key ARN.',
    });
  if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException')
    return new StorageAccessError(`Not allowed to use KMS key ${keyId} for ${action}: ${message}`, {
      hint: `Grant kms:${action} on the key to the caller's role (and check the key policy).`,
    });
  if (
    name === 'InvalidKeyUsageException' ||
    name === 'KMSInvalidStateException' ||
    name === 'DisabledException'
  )
    return new UserError(`KMS key ${keyId} cannot ${action}: ${message}`, {
      hint: 'Use an enabled asymmetric key with KeyUsage SIGN_VERIFY (ECC_NIST_P256 or RSA).',
    });
  return e instanceof Error ? e : new Error(message);
}

async function publicKeyOf(client: KMSClient, keyId: string) {
  try {
    const out = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
    if (!out.PublicKey || !out.KeyId) throw new Error('GetPublicKey returned no key');
    if (out.KeyUsage !== 'SIGN_VERIFY')
      throw new UserError(`KMS key ${keyId} is for ${out.KeyUsage ?? 'an unknown use'}, not signing`, {
        hint: 'Use an asymmetric key with KeyUsage SIGN_VERIFY (ECC_NIST_P256 or RSA).',
      });
    const algorithms = out.SigningAlgorithms ?? [];
    const algorithm: SignatureAlgorithm | undefined = algorithms.includes('ECDSA_SHA_256')
      ? 'ECDSA_SHA_256'
      : algorithms.includes('RSASSA_PSS_SHA_256')
        ? 'RSASSA_PSS_SHA_256'
        : undefined;
    if (!algorithm)
      throw new UserError(`KMS key ${keyId} signs only with ${algorithms.join(', ') || 'nothing'}`, {
        hint: 'Use an ECC_NIST_P256 key (ECDSA_SHA_256) or an RSA key (RSASSA_PSS_SHA_256).',
      });
    const key = createPublicKey({ key: Buffer.from(out.PublicKey), format: 'der', type: 'spki' });
    return { arn: out.KeyId, algorithm, key };
  } catch (e) {
    throw e instanceof UserError ? e : kmsError(e, keyId, 'GetPublicKey');
  }
}

export async function kmsSigner(o: KmsKeyOptions): Promise<EvidenceSigner> {
  const client = clientOf(o);
  const { arn, algorithm, key } = await publicKeyOf(client, o.keyId);
  return {
    keyId: arn,
    fingerprint: publicKeyFingerprint(key),
    algorithm,
    sign: async (payload) => {
      try {
        const out = await client.send(
          new SignCommand({ KeyId: arn, Message: payload, MessageType: 'RAW', SigningAlgorithm: algorithm }),
        );
        if (!out.Signature) throw new Error('Sign returned no signature');
        return Buffer.from(out.Signature);
      } catch (e) {
        throw kmsError(e, arn, 'Sign');
      }
    },
  };
}

export function verifyWithPublicKey(
  key: KeyObject,
  payload: Buffer,
  signature: Buffer,
  algorithm: SignatureAlgorithm,
): boolean {
  try {
    return verifyOrThrow(key, payload, signature, algorithm);
  } catch {
    // A signature of the wrong shape for the key (an edited signature.json) is a failed check, not a crash.
    return false;
  }
}

function verifyOrThrow(
  key: KeyObject,
  payload: Buffer,
  signature: Buffer,
  algorithm: SignatureAlgorithm,
): boolean {
  switch (algorithm) {
    case 'ed25519':
      return key.asymmetricKeyType === 'ed25519' && verify(null, payload, key, signature);
    case 'ECDSA_SHA_256':
      // KMS returns ECDSA signatures DER-encoded, node's default.
      return key.asymmetricKeyType === 'ec' && verify('sha256', payload, key, signature);
    case 'RSASSA_PSS_SHA_256':
      return (
        key.asymmetricKeyType === 'rsa' &&
        verify(
          'sha256',
          payload,
          // AWS KMS salts with the digest length (32); AUTO accepts that and any other length a signer chose.
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
          signature,
        )
      );
  }
}

/** Verifies with the KMS key's public half (kms:GetPublicKey), checked locally. */
export async function kmsVerifier(o: KmsKeyOptions): Promise<EvidenceVerifier & { publicKeyPem: string }> {
  const { arn, key } = await publicKeyOf(clientOf(o), o.keyId);
  return {
    keyId: arn,
    fingerprint: publicKeyFingerprint(key),
    publicKeyPem: key.export({ type: 'spki', format: 'pem' }).toString(),
    verify: async (payload, signature, algorithm) => verifyWithPublicKey(key, payload, signature, algorithm),
  };
}
