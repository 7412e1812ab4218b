import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  cycles,
  folderEdges,
  importsBetween,
  readImportGraph,
} from '../../../tools/architecture/import-graph.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('import cycles', () => {
  const graph = readImportGraph(ROOT);

  it('reads the real import graph (type imports and re-exports included)', () => {
    expect(graph.edges.size).toBeGreaterThan(150);
    // A type-only import and a re-export, each of a file we know.
    expect(graph.edges.get('lib/infra/workflows/states.ts')).toContain('lib/infra/workflows/functions.ts');
    expect(graph.edges.get('lib/offsets/index.ts')).toContain('lib/offsets/reset-offsets.ts');
    expect(graph.edges.get('lib/cli/main.ts')).toContain('lib/errors.ts');
  });

  it('has no cycle between files', () => {
    expect(cycles(graph.edges).map((c) => c.join(' <-> '))).toEqual([]);
  });

  it("has no cycle between lib/'s top-level folders", () => {
    const folders = folderEdges(graph);
    const found = cycles(folders).map((c) => ({
      cycle: c.join(' <-> '),
      imports: c.flatMap((a) =>
        (folders.get(a) ?? []).filter((b) => c.includes(b)).flatMap((b) => importsBetween(graph, a, b)),
      ),
    }));
    expect(found).toEqual([]);
  });

  it('finds a cycle when there is one', () => {
    const edges = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts', 'd.ts']],
      ['e.ts', []],
    ]);
    expect(cycles(edges)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['d.ts']]);
    const folders = folderEdges({
      edges: new Map([
        ['lib/offsets/reset.ts', ['lib/restore/mapping.ts']],
        ['lib/restore/run.ts', ['lib/offsets/index.ts', 'lib/errors.ts']],
      ]),
    });
    expect(cycles(folders)).toEqual([['lib/offsets', 'lib/restore']]);
  });
});
