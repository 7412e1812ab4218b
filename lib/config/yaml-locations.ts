import { type Document, isAlias, isMap, isNode, isScalar, isSeq, type LineCounter, type Node } from 'yaml';

/**
 * The 1-based line a zod issue path points at: the line of the key (or list item) it names, or of its nearest
 * ancestor that exists when the path names something missing (a required key reports at its parent's key).
 */
export function lineOfPath(doc: Document, lineCounter: LineCounter, path: readonly PropertyKey[]): number {
  for (let length = path.length; length > 0; length--) {
    const node = keyOrItemNode(doc, path.slice(0, length));
    if (node?.range) return lineCounter.linePos(node.range[0]).line;
  }
  const root = doc.contents;
  return root?.range ? lineCounter.linePos(root.range[0]).line : 1;
}

function keyOrItemNode(doc: Document, path: readonly PropertyKey[]): Node | undefined {
  let parent: unknown = doc.contents;
  for (const segment of path.slice(0, -1)) parent = childOf(doc, parent, segment)?.value;
  return childOf(doc, parent, path.at(-1)!)?.key;
}

/** The key node (for a map) or item node (for a list) of `segment`, and the value under it. */
function childOf(
  doc: Document,
  parent: unknown,
  segment: PropertyKey,
): { key: Node; value: unknown } | undefined {
  const collection = isAlias(parent) ? parent.resolve(doc) : parent;
  if (isMap(collection)) {
    // Compared as strings: YAML keys may be numbers (a partition `0:`) where the JS path holds "0".
    const pair = collection.items.find(
      (item) => String(isScalar(item.key) ? item.key.value : item.key) === String(segment),
    );
    return isNode(pair?.key) ? { key: pair.key, value: pair.value } : undefined;
  }
  if (isSeq(collection)) {
    const item = collection.items[Number(segment)];
    return isNode(item) ? { key: item, value: item } : undefined;
  }
  return undefined;
}

/** `source.security.sasl_mechanism`, `source.bootstrap_servers[1]`, `restore.topic_mapping["orders.v1"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((segment, index) => {
      if (typeof segment === 'number') return `[${segment}]`;
      const name = String(segment);
      if (!/^[A-Za-z0-9_-]+$/.test(name)) return `[${JSON.stringify(name)}]`;
      return index === 0 ? name : `.${name}`;
    })
    .join('');
}
