// Reads a rule pack from disk: `pack.yaml` plus every `rules/*.yaml`, each validated against the
// pack schema with line numbers for every problem, and the domain lists the pack names. The result
// is compiled (and its examples tested) by compile.ts; any problem refuses the whole pack.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { parse as parseCsv } from 'csv-parse/sync';
import { PACK_FILE_SCHEMA, RULES_FILE_SCHEMA, type RuleSpec } from './pack-schema.js';
import { compilePack, PackError, type LocatedRule, type PackProblem, type PackSource } from './compile.js';
import { cachedRegexSafety } from './regex-safety.js';
import type { CompiledPolicy, ContentModel } from '../core/compiled-policy.js';
import { loadContentModel } from '../classifier/model.js';

/** The default pack shipped with Warden. */
export const DEFAULT_PACK_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../packs/default');

const ajv = new Ajv({ allErrors: true, strict: false });
const validatePackFile = ajv.compile(PACK_FILE_SCHEMA);
const validateRulesFile = ajv.compile(RULES_FILE_SCHEMA);

interface ParsedYaml {
  data: unknown;
  doc: Document;
  lines: LineCounter;
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}

function parseYamlFile(file: string, problems: PackProblem[]): ParsedYaml | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    problems.push({ file: displayPath(file), line: 0, message: `cannot read: ${(e as Error).message}` });
    return null;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const pos = lines.linePos(err.pos[0]);
      problems.push({ file: displayPath(file), line: pos.line, column: pos.col, message: `YAML: ${err.message.split('\n')[0]}` });
    }
    return null;
  }
  return { data: doc.toJS(), doc, lines };
}

/** Line of the YAML node at a JSON-pointer path, or of its nearest existing parent. */
function lineOf(parsed: ParsedYaml, pointer: string): { line: number; column: number } {
  const path = pointer
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
  for (let len = path.length; len >= 0; len--) {
    const node = parsed.doc.getIn(path.slice(0, len), true);
    if (isNode(node) && node.range) {
      const pos = parsed.lines.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return { line: 1, column: 1 };
}

function schemaProblems(file: string, parsed: ParsedYaml, errors: ErrorObject[]): PackProblem[] {
  // `oneOf`/`if` wrappers repeat their children's errors; keep the most specific one per place.
  const seen = new Set<string>();
  const out: PackProblem[] = [];
  for (const e of errors) {
    if (e.keyword === 'if' || e.keyword === 'oneOf') continue;
    const where = e.instancePath || '/';
    let message = `${where} ${e.message ?? 'is invalid'}`;
    if (e.keyword === 'additionalProperties')
      message = `${where}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
    if (e.keyword === 'enum') message = `${where} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    const key = `${where}|${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ file: displayPath(file), ...lineOf(parsed, e.instancePath), message });
  }
  return out;
}

function locateRules(file: string, parsed: ParsedYaml, rules: RuleSpec[], base: string): LocatedRule[] {
  return rules.map((r, i) => ({ ...r, source: { file: displayPath(file), line: lineOf(parsed, `${base}/${i}`).line } }));
}

export interface ListSpec {
  file: string;
  column?: string;
  where?: Record<string, string>;
}

/** Loads a domain list: one domain per line (`#` comments), or a CSV column with optional filters. */
export function loadDomainList(file: string, spec: Omit<ListSpec, 'file'> = {}): Set<string> {
  const text = readFileSync(file, 'utf8');
  const out = new Set<string>();
  const add = (d: string | undefined) => {
    const v = d?.trim().toLowerCase().replace(/^\*\./, '').replace(/\.$/, '');
    if (v) out.add(v);
  };
  if (file.endsWith('.csv')) {
    const rows = parseCsv(text, { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
    const column = spec.column ?? 'domain';
    for (const row of rows) {
      if (spec.where && !Object.entries(spec.where).every(([k, v]) => row[k] === v)) continue;
      add(row[column]);
    }
  } else {
    for (const line of text.split('\n')) {
      const l = line.replace(/#.*/, '').trim();
      if (l) add(l.split(/\s+/)[0]);
    }
  }
  return out;
}

export interface LoadOptions {
  /** Replace or add lists: name -> file (for example the full public-shortener list). */
  listOverrides?: Record<string, string>;
  /**
   * Loads a model file named by the pack. Defaults to the content classifier's loader, so every
   * adapter (CLI, gateway, library) screens with the same policy; false screens with rules alone.
   */
  loadModel?: ((file: string, weights: Record<string, number> | undefined) => ContentModel) | false;
  testExamples?: boolean;
}

export interface LoadedPack {
  policy: CompiledPolicy;
  source: PackSource;
  dir: string;
}

/** Reads a pack directory into plain data without compiling it. Throws PackError. */
export function readPack(dir: string, options: LoadOptions = {}): PackSource {
  const problems: PackProblem[] = [];
  const packFile = join(dir, 'pack.yaml');
  const parsed = parseYamlFile(packFile, problems);
  if (parsed === null) throw new PackError(problems);
  if (!validatePackFile(parsed.data)) throw new PackError(schemaProblems(packFile, parsed, validatePackFile.errors ?? []));
  const pack = parsed.data as {
    pack: string;
    version: string;
    description?: string;
    thresholds: { review: number; block: number };
    clauses?: Array<{ id: string; summary: string }>;
    lists?: Record<string, ListSpec>;
    brands?: Array<{ name: string; domains: string[] }>;
    rules?: RuleSpec[];
    models?: Array<{ file: string; weights?: Record<string, number> }>;
  };

  const hash = createHash('sha256');
  hash.update(readFileSync(packFile));
  const rules: LocatedRule[] = locateRules(packFile, parsed, pack.rules ?? [], '/rules');

  const rulesDir = join(dir, 'rules');
  if (existsSync(rulesDir)) {
    for (const name of readdirSync(rulesDir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()) {
      const file = join(rulesDir, name);
      const p = parseYamlFile(file, problems);
      if (p === null) continue;
      hash.update(name).update(readFileSync(file));
      if (!validateRulesFile(p.data)) {
        problems.push(...schemaProblems(file, p, validateRulesFile.errors ?? []));
        continue;
      }
      rules.push(...locateRules(file, p, (p.data as { rules: RuleSpec[] }).rules, '/rules'));
    }
  }

  const lists = new Map<string, ReadonlySet<string>>();
  const overrides = options.listOverrides ?? {};
  for (const [name, spec] of Object.entries(pack.lists ?? {})) {
    const file = overrides[name] ?? (isAbsolute(spec.file) ? spec.file : join(dir, spec.file));
    try {
      const list = loadDomainList(file, spec);
      lists.set(name, list);
      hash.update(`list:${name}:${[...list].sort().join(',')}`);
    } catch (e) {
      problems.push({ file: displayPath(packFile), ...lineOf(parsed, `/lists/${name}`), message: `list ${name}: ${(e as Error).message}` });
    }
  }
  for (const [name, file] of Object.entries(overrides)) {
    if (lists.has(name)) continue;
    try {
      const list = loadDomainList(file);
      lists.set(name, list);
      hash.update(`list:${name}:${[...list].sort().join(',')}`);
    } catch (e) {
      problems.push({ file: displayPath(file), line: 0, message: `list ${name}: ${(e as Error).message}` });
    }
  }

  const models: ContentModel[] = [];
  for (const [i, m] of (pack.models ?? []).entries()) {
    const file = isAbsolute(m.file) ? m.file : join(dir, m.file);
    const loadModel = options.loadModel ?? loadContentModel;
    if (loadModel === false) continue;
    try {
      models.push(loadModel(file, m.weights));
      hash.update(`model:${basename(file)}:`).update(readFileSync(file));
    } catch (e) {
      problems.push({
        file: displayPath(packFile),
        ...lineOf(parsed, `/models/${i}`),
        message: `model ${m.file}: ${(e as Error).message}`,
      });
    }
  }

  if (problems.length > 0) throw new PackError(problems);
  return {
    name: pack.pack,
    version: pack.version,
    ...(pack.description !== undefined ? { description: pack.description } : {}),
    thresholds: pack.thresholds,
    clauses: pack.clauses ?? [],
    lists,
    brands: pack.brands ?? [],
    rules,
    models,
    hash: hash.digest('hex'),
    file: displayPath(packFile),
  };
}

/** Reads, compiles and tests a pack. Throws PackError naming file, line and reason. */
export function loadPack(dir: string = DEFAULT_PACK_DIR, options: LoadOptions = {}): LoadedPack {
  const source = readPack(dir, options);
  const policy = compilePack(source, {
    regexSafety: cachedRegexSafety,
    ...(options.testExamples !== undefined ? { testExamples: options.testExamples } : {}),
  });
  return { policy, source, dir };
}
