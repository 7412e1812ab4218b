import { createHash } from 'node:crypto';
import { UserError } from '../errors.ts';
import type { KafkaCluster } from '../kafka/index.ts';

/**
 * A drill's scratch namespace: the topic prefix everything it creates on a cluster starts with, and the only
 * topics it (or the clean-up after a crashed drill) ever deletes. A scheduled drill's prefix is
 * `<namespace>-<execution name>.`, made by the state machine, so that the clean-up step knows it even when the drill
 * itself never returned (a Lambda timeout).
 */

/** Characters Kafka allows in a topic name. */
const TOPIC_CHARS = /[^A-Za-z0-9._-]/g;
/** A prefix short enough to leave room for the restored topic names (Kafka allows 249 characters). */
const MAX_PREFIX = 160;
/** Shorter prefixes could be a whole word of someone's naming scheme (`orders.`): refused. */
const MIN_PREFIX = 8;

/**
 * The prefix as Kafka can take it: characters a topic name cannot hold (an execution started by hand may be named
 * with any of `'!@+=` and more) become `_`, with a short hash of the given text appended when any did, so that two
 * names differing only there never share a namespace. Deterministic: the drill and its clean-up, in two
 * invocations, get the same prefix from the same text.
 */
export function scratchPrefixOf(raw: string): string {
  const body = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  const safe = body.replace(TOPIC_CHARS, '_');
  const prefix =
    safe === body ? `${safe}.` : `${safe}-${createHash('sha256').update(raw).digest('hex').slice(0, 8)}.`;
  if (prefix.length < MIN_PREFIX || prefix.length > MAX_PREFIX || /^[._-]/.test(prefix))
    throw new UserError(
      `drill scratch prefix "${raw}" must be ${MIN_PREFIX} to ${MAX_PREFIX} characters and start with a letter or digit`,
      {
        hint: 'Choose a drill namespace such as kafka-backup-drill (the deployment file: dr[].drill.namespace).',
      },
    );
  return prefix;
}

/**
 * Deletes the topics of `cluster` that start with `prefix` and nothing else; returns their names. What the drill
 * workflow runs before a drill (leftovers of an earlier attempt of the same execution) and after a failed one.
 */
export async function deleteScratchTopics(cluster: KafkaCluster, prefix: string): Promise<string[]> {
  if (prefix !== scratchPrefixOf(prefix))
    throw new UserError(`"${prefix}" is not a drill scratch prefix; nothing deleted`);
  const mine = (await cluster.listTopics()).filter((t) => t.startsWith(prefix));
  await cluster.deleteTopics(mine);
  return mine;
}
