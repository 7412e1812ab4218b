import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/**
 * The project's import graph, read with TypeScript's own import scanner (`ts.preProcessFile`: import, export
 * from, import type and dynamic `import('...')` with a literal path), and the cycles in it: between files, and
 * between the top-level folders of lib/ (lib/restore -> lib/offsets -> lib/restore is a cycle even when no two
 * files import each other). Only relative imports count: packages cannot import us back.
 */

/** Folders whose .ts files are the project's code (tests import it but nothing imports tests). */
export const CODE_ROOTS = ['bin', 'lib', 'functions', 'tools', 'bench', 'test'] as const;

export interface ImportGraph {
  /** Project-relative file -> the project-relative files it imports. */
  readonly edges: ReadonlyMap<string, readonly string[]>;
}

function tsFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) tsFiles(path, out);
    else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

export function readImportGraph(root: string, roots: readonly string[] = CODE_ROOTS): ImportGraph {
  const edges = new Map<string, string[]>();
  const files = roots.flatMap((r) => {
    try {
      return tsFiles(join(root, r));
    } catch {
      return [];
    }
  });
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles
      .map((f) => f.fileName)
      .filter((name) => name.startsWith('./') || name.startsWith('../'))
      .map((name) =>
        relative(root, resolve(dirname(file), name))
          .split(sep)
          .join('/'),
      )
      .filter((target) => target.endsWith('.ts'));
    edges.set(relative(root, file).split(sep).join('/'), [...new Set(targets)].sort());
  }
  return { edges };
}

/** Strongly connected components with more than one member (or a self-loop), each sorted; Tarjan's algorithm. */
export function cycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    indexOf.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indexOf.get(w)!));
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(component.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!indexOf.has(v)) visit(v);
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** `lib/restore/plan.ts` -> `lib/restore`; files directly in lib/ (lib/errors.ts) are their own unit. */
export function libFolderOf(file: string): string | undefined {
  const parts = file.split('/');
  if (parts[0] !== 'lib') return undefined;
  return parts.length > 2 ? `lib/${parts[1]}` : file;
}

/** The graph between lib/'s top-level folders: an edge for every file import that crosses two of them. */
export function folderEdges(graph: ImportGraph): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const [from, targets] of graph.edges) {
    const a = libFolderOf(from);
    if (!a) continue;
    for (const to of targets) {
      const b = libFolderOf(to);
      if (!b || a === b) continue;
      if (!out.has(a)) out.set(a, new Set());
      out.get(a)!.add(b);
    }
  }
  return new Map([...out].map(([k, v]) => [k, [...v].sort()]));
}

/** For a cycle's message: the file imports that make one folder depend on another. */
export function importsBetween(graph: ImportGraph, fromFolder: string, toFolder: string): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph.edges)
    if (libFolderOf(from) === fromFolder)
      for (const to of targets) if (libFolderOf(to) === toFolder) out.push(`${from} -> ${to}`);
  return out;
}

// `node tools/architecture/import-graph.ts`: prints every cycle (exit 1 if any); the unit test runs the same check.
if (import.meta.main) {
  const root = resolve(dirname(new URL(import.meta.url).pathname), '..', '..');
  const graph = readImportGraph(root);
  const fileCycles = cycles(graph.edges);
  const folders = folderEdges(graph);
  const folderCycles = cycles(folders);
  for (const c of fileCycles) console.log(`file cycle: ${c.join(' <-> ')}`);
  for (const c of folderCycles) {
    console.log(`folder cycle: ${c.join(' <-> ')}`);
    for (const a of c)
      for (const b of folders.get(a) ?? [])
        if (c.includes(b)) for (const line of importsBetween(graph, a, b)) console.log(`  ${line}`);
  }
  console.log(
    `${graph.edges.size} files, ${fileCycles.length} file cycles, ${folderCycles.length} folder cycles`,
  );
  process.exitCode = fileCycles.length + folderCycles.length > 0 ? 1 : 0;
}
