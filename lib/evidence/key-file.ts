import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { UserError } from '../errors.ts';
import { verifyWithPublicKey } from './kms-key.ts';
import { type EvidenceSigner, type EvidenceVerifier, publicKeyFingerprint } from './signature.ts';

/**
 * Evidence signed with a local Ed25519 key pair (PEM files): for the CLI and drills run outside AWS. The key id is
 * a fingerprint of the public key, not the file's path, so a report signed on one machine verifies on another
 * with a copy of the public key.
 */
export function keyFingerprint(publicKey: KeyObject): string {
  return `${publicKey.asymmetricKeyType === 'ed25519' ? 'ed25519' : 'sha256'}:${publicKeyFingerprint(publicKey).slice(0, 32)}`;
}

function readKey(path: string, anyPublic = false): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`Cannot read the evidence signing key file ${path} (${code ?? String(e)})`, {
      hint: 'Create a key pair with `kafka-backup evidence keygen --out NAME`, or give the path of an existing one.',
    });
  }
  try {
    const key = pem.includes('PRIVATE KEY') ? createPrivateKey(pem) : createPublicKey(pem);
    const publicOk =
      anyPublic && key.type === 'public' && ['ec', 'rsa'].includes(key.asymmetricKeyType ?? '');
    if (key.asymmetricKeyType !== 'ed25519' && !publicOk) throw new Error(`a ${key.asymmetricKeyType} key`);
    return key;
  } catch (e) {
    throw new UserError(
      `${path} is not an Ed25519 key (or, to verify, an EC or RSA public key) in PEM form (${e instanceof Error ? e.message : String(e)})`,
      { hint: 'Use the NAME.key or NAME.pub file that `kafka-backup evidence keygen --out NAME` wrote.' },
    );
  }
}

/** Writes NAME.key (private, mode 600) and NAME.pub; refuses to overwrite either. */
export function generateEvidenceKeyPair(name: string): {
  privatePath: string;
  publicPath: string;
  keyId: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePath = `${name}.key`;
  const publicPath = `${name}.pub`;
  for (const [path, body, mode] of [
    [privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600],
    [publicPath, publicKey.export({ type: 'spki', format: 'pem' }), 0o644],
  ] as const) {
    try {
      writeFileSync(path, body, { flag: 'wx', mode });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UserError(
        code === 'EEXIST' ? `${path} exists already` : `Cannot write ${path} (${code ?? String(e)})`,
        { hint: 'Choose another --out name; an existing key is never overwritten.' },
      );
    }
  }
  return { privatePath, publicPath, keyId: keyFingerprint(publicKey) };
}

export function keyFileSigner(path: string): EvidenceSigner {
  const key = readKey(path);
  if (key.type !== 'private')
    throw new UserError(`${path} is a public key; signing needs the private key`, {
      hint: 'Give the NAME.key file to sign; NAME.pub is for verifying.',
    });
  const publicKey = createPublicKey(key);
  return {
    keyId: keyFingerprint(publicKey),
    fingerprint: publicKeyFingerprint(publicKey),
    algorithm: 'ed25519',
    sign: async (payload) => sign(null, payload, key),
  };
}

/**
 * Verifies with a public key file (ours, or a KMS key's public half as PEM), or with the private key file (its
 * public half).
 */
export function keyFileVerifier(path: string): EvidenceVerifier {
  const key = readKey(path, true);
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return {
    keyId: keyFingerprint(publicKey),
    fingerprint: publicKeyFingerprint(publicKey),
    verify: async (payload, signature, algorithm) =>
      verifyWithPublicKey(publicKey, payload, signature, algorithm),
  };
}
