/**
 * Glob match over a whole name: `*` is any run of characters, `?` exactly one, everything else (`.` included)
 * stands for itself. Case-sensitive, as Kafka topic and group names are.
 */
export function matchesGlob(pattern: string, name: string): boolean {
  return globToRegExp(pattern).test(name);
}

const compiled = new Map<string, RegExp>();

function globToRegExp(pattern: string): RegExp {
  let regexp = compiled.get(pattern);
  if (!regexp) {
    const source = [...pattern]
      .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}/-]/g, '\\$&')))
      .join('');
    regexp = new RegExp(`^${source}$`, 's');
    compiled.set(pattern, regexp);
  }
  return regexp;
}

export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/** Kafka's own topics (`__consumer_offsets`, `__transaction_state`, ...). */
export function isInternalTopic(topic: string): boolean {
  return topic.startsWith('__');
}

export interface TopicSelection {
  /** Sorted, without duplicates. */
  selected: string[];
  /** Include entries without wildcards that name no available topic, in the order given. */
  missing: string[];
}

/**
 * The topics of `available` that some include pattern matches and no exclude pattern matches. A catch-all like
 * `*` never pulls in internal topics: only a pattern that itself starts with `__`, or names the topic exactly,
 * selects one, because backing up or restoring Kafka's bookkeeping by accident corrupts the target cluster.
 */
export function selectTopics(available: string[], include: string[], exclude: string[]): TopicSelection {
  const selected = new Set<string>();
  for (const topic of available) {
    const included = include.some(
      (pattern) =>
        matchesGlob(pattern, topic) &&
        (!isInternalTopic(topic) || pattern === topic || isInternalTopic(pattern)),
    );
    if (included && !exclude.some((pattern) => matchesGlob(pattern, topic))) selected.add(topic);
  }
  const present = new Set(available);
  const missing = [...new Set(include.filter((pattern) => !hasWildcard(pattern) && !present.has(pattern)))];
  return { selected: [...selected].sort(), missing };
}
