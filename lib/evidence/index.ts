export {
  EvidenceLayout,
  type EvidenceListing,
  type EvidenceVerification,
  listEvidence,
  loadEvidence,
  type StoredEvidence,
  verifyEvidence,
  writeEvidence,
} from './evidence-store.ts';
export { generateEvidenceKeyPair, keyFileSigner, keyFileVerifier, keyFingerprint } from './key-file.ts';
export { kmsSigner, kmsVerifier } from './kms-key.ts';
export { renderEvidenceMarkdown } from './render.ts';
export { EVIDENCE_FORMAT_VERSION, EvidenceReport } from './report.ts';
export {
  EvidenceSignature,
  type EvidenceSigner,
  type EvidenceVerifier,
  publicKeyFingerprint,
  SignatureAlgorithm,
  signedPayload,
} from './signature.ts';
