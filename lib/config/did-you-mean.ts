/**
 * The known key an unknown one was probably meant to be: within edit distance 2 (`bootstrap.servers`,
 * `compresion_level`), or sharing its beginning (`sasl_mech`, `checkpoint_interval`, `ssl_ca_cert`).
 * Case is ignored. Undefined when nothing is close.
 */
export function suggestKey(unknown: string, known: readonly string[]): string | undefined {
  const typed = unknown.toLowerCase();
  let best: { key: string; distance: number; shared: number } | undefined;
  for (const key of known) {
    if (key === unknown) continue;
    const candidate = key.toLowerCase();
    const distance = editDistance(typed, candidate);
    const shared = commonPrefixLength(typed, candidate);
    const shorter = Math.min(typed.length, candidate.length);
    const close =
      distance <= 2 || (shared === shorter && shorter >= 4) || (shared >= 5 && shared * 2 >= typed.length);
    if (!close) continue;
    if (!best || distance < best.distance || (distance === best.distance && shared > best.shared)) {
      best = { key, distance, shared };
    }
  }
  return best?.key;
}

function commonPrefixLength(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Levenshtein distance: insertions, deletions and substitutions cost 1. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
