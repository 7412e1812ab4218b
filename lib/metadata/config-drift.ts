// Topic configs that differ between a backup (the configs set on each source topic) and a cluster
// (`kafka-backup diff-configs`), and setting the backup's values there.
import type { Manifest } from '../format/manifest.ts';
import { type KafkaCluster, setTopicConfigs } from '../kafka/index.ts';

export interface ConfigDifference {
  name: string;
  backup: string;
  /** The effective value on the cluster (its own setting, else the broker's default); null when unknown. */
  cluster: string | null;
}

export interface TopicDrift {
  source_topic: string;
  target_topic: string;
  /** `absent`: the topic does not exist on the cluster. */
  status: 'same' | 'differs' | 'absent';
  differences: ConfigDifference[];
  /** Set on the cluster's topic but not on the backed-up one: reported, never removed. */
  only_on_cluster: Record<string, string>;
}

export interface ConfigDrift {
  backup_id: string;
  topics: TopicDrift[];
  /** Topics with at least one difference. */
  drifted: number;
}

export async function diffTopicConfigs(
  manifest: Manifest,
  cluster: KafkaCluster,
  opts: { topics: string[]; mapping: Readonly<Record<string, string>> },
): Promise<ConfigDrift> {
  const existing = new Set(await cluster.listTopics());
  const out: TopicDrift[] = [];
  for (const source of opts.topics) {
    const t = manifest.topics.find((x) => x.name === source)!;
    const target = opts.mapping[source] ?? source;
    if (!existing.has(target)) {
      out.push({
        source_topic: source,
        target_topic: target,
        status: 'absent',
        differences: [],
        only_on_cluster: {},
      });
      continue;
    }
    const [described] = await cluster.describeTopics([target]);
    const own = described?.configs ?? {};
    const names = Object.keys(t.configs).sort();
    const effective = names.length > 0 ? await cluster.effectiveTopicConfigs(target, names) : {};
    const differences = names
      .filter((n) => effective[n] !== t.configs[n])
      .map((n) => ({ name: n, backup: t.configs[n]!, cluster: effective[n] ?? null }));
    const onlyOnCluster = Object.fromEntries(
      Object.entries(own)
        .filter(([n]) => !(n in t.configs))
        .sort(([a], [b]) => a.localeCompare(b)),
    );
    out.push({
      source_topic: source,
      target_topic: target,
      status: differences.length > 0 ? 'differs' : 'same',
      differences,
      only_on_cluster: onlyOnCluster,
    });
  }
  return {
    backup_id: manifest.backup_id,
    topics: out,
    drifted: out.filter((t) => t.status === 'differs').length,
  };
}

/** Sets every differing config to the backup's value (IncrementalAlterConfigs SET); nothing else changes. */
export async function applyTopicConfigs(cluster: KafkaCluster, drift: ConfigDrift): Promise<number> {
  let set = 0;
  for (const t of drift.topics) {
    if (t.status !== 'differs') continue;
    await setTopicConfigs(
      cluster,
      t.target_topic,
      Object.fromEntries(t.differences.map((d) => [d.name, d.backup])),
    );
    set += t.differences.length;
  }
  return set;
}
