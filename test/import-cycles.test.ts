// No import cycles: none between modules at run time (the compiled graph, where type-only imports
// are gone), and none between the top-level parts of src/ (store, cluster, http, …, type imports
// included), so each part can be read, tested and replaced knowing only what it imports.
// Imports are read with TypeScript's own pre-processor (static, re-exports and dynamic import()).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts'))
    .map((f) => join(dir, f));
}

/** file -> the files it imports (relative specifiers only; packages are not ours). */
function importGraph(dir: string, ext: '.js' | '.ts'): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of filesUnder(dir, ext)) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    graph.set(
      relative(dir, file),
      importedFiles
        .map((i) => i.fileName)
        .filter((spec) => spec.startsWith('.'))
        .map((spec) => relative(dir, resolve(dirname(file), ext === '.ts' ? spec.replace(/\.js$/, '.ts') : spec))),
    );
  }
  return graph;
}

/** The cycles of a directed graph (Tarjan's strongly connected components of more than one node, or a self-loop). */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

/** The part of src/ a file belongs to: its top-level folder, or the file itself. */
const partOf = (file: string): string => file.split('/')[0].replace(/\.ts$/, '');

test('the modules of src/ import each other without cycles at run time', () => {
  const graph = importGraph(join(ROOT, 'dist/src'), '.js');
  assert.ok(graph.size > 50, `read the compiled sources (${graph.size} files)`);
  assert.deepEqual(cycles(graph), []);
});

test('the parts of src/ (store, cluster, http, …) depend on each other without cycles', () => {
  const files = importGraph(join(ROOT, 'src'), '.ts');
  const parts = new Map<string, string[]>();
  for (const [file, imports] of files) {
    const from = partOf(file);
    const to = new Set(parts.get(from) ?? []);
    for (const i of imports) if (partOf(i) !== from) to.add(partOf(i));
    parts.set(from, [...to]);
  }
  assert.ok(parts.get('serve')?.includes('store'), 'the part graph was read');
  assert.deepEqual(cycles(parts), []);
});

test('the cycle finder finds a cycle', () => {
  assert.deepEqual(
    cycles(
      new Map([
        ['a', ['b']],
        ['b', ['c']],
        ['c', ['a']],
        ['d', ['a']],
      ]),
    ),
    [['a', 'b', 'c']],
  );
  assert.deepEqual(
    cycles(
      new Map([
        ['a', ['b']],
        ['b', []],
      ]),
    ),
    [],
  );
});
