import { NotFoundError, UserError } from '../errors.ts';
import { EvidenceKeys } from '../storage/layout.ts';
import type { ObjectStore } from '../storage/object-store.ts';
import { parseStoredJson } from '../storage/stored-json.ts';
import { renderEvidenceMarkdown } from './render.ts';
import { EvidenceReport } from './report.ts';
import {
  EvidenceSignature,
  type EvidenceSigner,
  type EvidenceVerifier,
  sha256Hex,
  signEvidence,
  signedPayload,
} from './signature.ts';

/**
 * Evidence lives beside the backups, one folder per drill: `evidence/<id>/report.json`, `report.md`,
 * `signature.json` (docs/format.md). Written with putIfAbsent so a report, once stored, is never replaced (and
 * with Object Lock on, never deleted before its retention ends).
 */
export const EvidenceLayout = EvidenceKeys;

const SIGNED_FILES = ['report.json', 'report.md'] as const;

export interface StoredEvidence {
  keys: { report: string; markdown: string; signature: string };
  signature: EvidenceSignature;
}

export async function writeEvidence(
  store: ObjectStore,
  report: EvidenceReport,
  signer: EvidenceSigner,
  now: Date = new Date(),
): Promise<StoredEvidence> {
  const checked = EvidenceReport.parse(report);
  const json = Buffer.from(`${JSON.stringify(checked, null, 2)}\n`, 'utf8');
  const markdown = Buffer.from(renderEvidenceMarkdown(checked), 'utf8');
  const signature = await signEvidence(
    checked.id,
    { 'report.json': json, 'report.md': markdown },
    signer,
    now,
  );
  const keys = {
    report: EvidenceLayout.report(checked.id),
    markdown: EvidenceLayout.markdown(checked.id),
    signature: EvidenceLayout.signature(checked.id),
  };
  // The signature last: a folder without it is a drill that did not finish writing, and verify says so.
  for (const [key, body] of [
    [keys.report, json],
    [keys.markdown, markdown],
    [keys.signature, Buffer.from(`${JSON.stringify(signature, null, 2)}\n`, 'utf8')],
  ] as const) {
    if (!(await store.putIfAbsent(key, body)))
      throw new UserError(`${store.location}/${key} exists already; evidence is never overwritten`, {
        hint: 'Two drills got the same id (started in the same second); run the drill again.',
      });
  }
  return { keys, signature };
}

export interface EvidenceListing {
  id: string;
  ok: boolean | null;
  kind: string | null;
  started_at: string | null;
  signed: boolean;
}

/** Every evidence folder of a location, newest first, with the report's verdict (not verified: see verify). */
export async function listEvidence(store: ObjectStore): Promise<EvidenceListing[]> {
  const keys = await store.list(EvidenceLayout.prefix);
  const ids = [...new Set(keys.map((k) => k.slice(EvidenceLayout.prefix.length).split('/')[0]!))];
  const out: EvidenceListing[] = [];
  for (const id of ids) {
    const raw = await store.getIfExists(EvidenceLayout.report(id));
    const parsed = raw ? EvidenceReport.safeParse(safeJson(raw)) : undefined;
    out.push({
      id,
      ok: parsed?.success ? parsed.data.ok : null,
      kind: parsed?.success ? parsed.data.kind : null,
      started_at: parsed?.success ? parsed.data.started_at : null,
      signed: keys.includes(EvidenceLayout.signature(id)),
    });
  }
  return out.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

function safeJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The stored report, parsed; a missing folder is a NotFoundError naming it. */
export async function loadEvidence(
  store: ObjectStore,
  id: string,
): Promise<{ report: EvidenceReport; markdown: string }> {
  const raw = await store.getIfExists(EvidenceLayout.report(id));
  if (!raw)
    throw new NotFoundError(`No evidence ${id} in ${store.location}`, {
      hint: '`kafka-backup evidence list` shows the evidence stored there.',
    });
  const report = parseStoredJson(store, EvidenceLayout.report(id), raw, EvidenceReport, 'evidence report');
  const markdown = (await store.getIfExists(EvidenceLayout.markdown(id)))?.toString('utf8') ?? '';
  return { report, markdown };
}

export interface EvidenceVerification {
  id: string;
  ok: boolean;
  /** Each thing that does not match, in words naming the file or field. Empty when ok. */
  problems: string[];
  key_id: string | null;
  algorithm: string | null;
  signed_at: string | null;
  report: EvidenceReport | null;
}

/**
 * Checks a stored evidence folder against a key the caller trusts: the signature over signature.json's content,
 * the key id it names, and each signed file's SHA-256. Never trusts a key named in the folder itself.
 */
export async function verifyEvidence(
  store: ObjectStore,
  id: string,
  verifier: EvidenceVerifier,
): Promise<EvidenceVerification> {
  const problems: string[] = [];
  const result: EvidenceVerification = {
    id,
    ok: false,
    problems,
    key_id: null,
    algorithm: null,
    signed_at: null,
    report: null,
  };
  const sigKey = EvidenceLayout.signature(id);
  const [rawSig, rawReport] = await Promise.all([
    store.getIfExists(sigKey),
    store.getIfExists(EvidenceLayout.report(id)),
  ]);
  if (!rawSig && !rawReport)
    throw new NotFoundError(`No evidence ${id} in ${store.location}`, {
      hint: '`kafka-backup evidence list` shows the evidence stored there.',
    });
  if (!rawSig) {
    problems.push(`${sigKey} is missing: the report was never signed, or its signature was deleted`);
    return result;
  }
  const parsedSig = EvidenceSignature.safeParse(safeJson(rawSig));
  if (!parsedSig.success) {
    const issue = parsedSig.error.issues[0];
    problems.push(`${sigKey} is not a valid signature file (${issue?.path.join('.')}: ${issue?.message})`);
    return result;
  }
  const sig = parsedSig.data;
  result.key_id = sig.key_id;
  result.algorithm = sig.algorithm;
  result.signed_at = sig.signed_at;
  if (sig.evidence_id !== id)
    problems.push(
      `${sigKey} was made for evidence ${sig.evidence_id}, not ${id} (copied from another drill)`,
    );
  if (sig.key_fingerprint !== verifier.fingerprint)
    problems.push(`signed with key ${sig.key_id}, but the key given to verify is ${verifier.keyId}`);
  const { signature, ...unsigned } = sig;
  if (!(await verifier.verify(signedPayload(unsigned), Buffer.from(signature, 'base64'), sig.algorithm)))
    problems.push(
      `the signature in ${sigKey} does not verify with key ${verifier.keyId}: signature.json was edited, or signed by another key`,
    );
  for (const name of SIGNED_FILES) {
    const key = `${EvidenceLayout.folder(id)}${name}`;
    const signed = sig.files[name];
    const body = name === 'report.json' ? rawReport : await store.getIfExists(key);
    if (!signed) problems.push(`${sigKey} does not cover ${name}`);
    else if (!body) problems.push(`${key} is missing`);
    else {
      const actual = sha256Hex(body);
      if (actual !== signed.sha256)
        problems.push(
          `${key} was changed after signing: its SHA-256 is ${actual}, the signature covers ${signed.sha256} (${signed.bytes} bytes, now ${body.length})`,
        );
    }
  }
  if (rawReport) {
    const parsed = EvidenceReport.safeParse(safeJson(rawReport));
    if (parsed.success) {
      result.report = parsed.data;
      if (parsed.data.id !== id) problems.push(`report.json names evidence ${parsed.data.id}, not ${id}`);
    } else problems.push(`${EvidenceLayout.report(id)} is not a valid evidence report`);
  }
  result.ok = problems.length === 0;
  return result;
}
