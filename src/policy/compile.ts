// Turns a loaded pack (plain data) into the matchers the screening core runs, and runs every
// rule's own examples against the result. A pack with any problem is refused as a whole, so the
// last good policy stays active.

import { DOUBLED, PhraseMatcher, WILDCARD } from '../core/phrase-matcher.js';
import { RegexSet, regexShapeError } from '../core/regex-set.js';
import { phraseForms, phraseTokens } from '../core/normalise.js';
import { makeBrand } from '../core/brands.js';
import { DomainSet } from '../core/domain-set.js';
import { expandPhrase } from './phrase-template.js';
import { screen } from '../core/screen.js';
import type { Channel, Message } from '../core/types.js';
import type { CompiledPolicy, CompiledRule, ContentModel, Thresholds } from '../core/compiled-policy.js';
import type { ExampleSpec, RuleSpec } from './pack-schema.js';
import { isKnownClause, parentClause } from './clauses.js';

export interface SourceLocation {
  file: string;
  line: number;
  column?: number;
}

export interface PackProblem extends SourceLocation {
  message: string;
}

export class PackError extends Error {
  constructor(readonly problems: PackProblem[]) {
    super(problems.map((p) => `${p.file}:${p.line}${p.column ? `:${p.column}` : ''}: ${p.message}`).join('\n'));
    this.name = 'PackError';
  }
}

export interface LocatedRule extends RuleSpec {
  source: SourceLocation;
}

export interface PackSource {
  name: string;
  version: string;
  description?: string;
  thresholds: Thresholds;
  /** Sub-clauses the pack declares below catalogue clauses. */
  clauses: Array<{ id: string; summary: string }>;
  lists: Map<string, ReadonlySet<string>>;
  brands: Array<{ name: string; domains: string[] }>;
  rules: LocatedRule[];
  models: ContentModel[];
  /** Content hash of everything above, so a policy version names exactly one rule set. */
  hash: string;
  /** Where pack-level problems are reported. */
  file: string;
}

/** Returns why a pattern is unsafe, or null when it is proven linear. */
export type RegexSafetyCheck = (pattern: string) => string | null;

export interface CompileOptions {
  regexSafety: RegexSafetyCheck;
  /** Run every rule's examples after compiling (default true). */
  testExamples?: boolean;
}

function senderTest(spec: RuleSpec): (from: string) => boolean {
  const senders = spec.senders!.map((s) => s.toLowerCase());
  switch (spec.senderMatch ?? 'exact') {
    case 'exact': {
      const set = new Set(senders);
      return (from) => set.has(from.toLowerCase());
    }
    case 'prefix':
      return (from) => {
        const f = from.toLowerCase();
        return senders.some((s) => f.startsWith(s));
      };
    case 'alphanumeric-contains': {
      // Alphanumeric sender IDs ("PAYPAL-SEC") that contain a protected name: numbers never match.
      const skeletons = senders.map((s) => phraseForms(s).join(''));
      return (from) => {
        if (!/[a-z]/i.test(from)) return false;
        const sk = phraseForms(from.replace(/[-_.]/g, ' ')).join('');
        return skeletons.some((s) => sk.includes(s));
      };
    }
  }
}

// eslint-disable-next-line max-lines-per-function, limits/max-lines-per-function -- one pass that checks and compiles every rule so that all of a pack's problems are reported together; each rule kind is a few lines of its switch
export function compilePack(source: PackSource, options: CompileOptions): CompiledPolicy {
  const problems: PackProblem[] = [];
  const at = (loc: SourceLocation, message: string) => problems.push({ ...loc, message });
  const declared = new Set<string>();
  for (const c of source.clauses) {
    if (parentClause(c.id) === undefined) at({ file: source.file, line: 1 }, `clause ${c.id} is not below a catalogue clause`);
    declared.add(c.id);
  }
  if (source.thresholds.review > source.thresholds.block) {
    at({ file: source.file, line: 1 }, 'thresholds.review must not exceed thresholds.block');
  }

  const byId = new Map<string, number>();
  const referenced = new Set<string>();
  source.rules.forEach((r, i) => {
    if (byId.has(r.id)) at(r.source, `duplicate rule id ${r.id}`);
    byId.set(r.id, i);
    for (const id of [...(r.all ?? []), ...(r.any ?? []), ...(r.none ?? [])]) referenced.add(id);
  });

  const phrases = new PhraseMatcher();
  // Templates expand into thousands of phrases built from a few dozen words: normalise each word once.
  const wordForms = new Map<string, string[]>();
  const formsOf = (word: string): string[] => {
    let f = wordForms.get(word);
    if (f === undefined) {
      f = phraseForms(word);
      wordForms.set(word, f);
    }
    return f;
  };
  // keepDoubles: a word whose canonical form squeezed a double letter must meet one in the text.
  const doubledFormsOf = (word: string): string[] =>
    phraseTokens(word).map((t) => (t.end - t.start > t.form.length ? t.form + DOUBLED : t.form));
  const regexes: Array<{ pattern: string; rule: number }> = [];
  const domainRules: CompiledPolicy['domainRules'][number][] = [];
  const urlRules: CompiledPolicy['urlRules'][number][] = [];
  const senderRules: CompiledPolicy['senderRules'][number][] = [];
  const evasionRules: CompiledPolicy['evasionRules'][number][] = [];
  const composites: CompiledPolicy['composites'][number][] = [];

  const rules: CompiledRule[] = source.rules.map((spec, index) => {
    if (!isKnownClause(spec.clause, declared)) at(spec.source, `rule ${spec.id}: unknown clause ${spec.clause}`);
    const rule: CompiledRule = {
      index,
      id: spec.id,
      clause: spec.clause,
      kind: spec.kind,
      weight: spec.weight ?? 0,
      description: spec.description,
      shadow: spec.shadow ?? false,
    };
    if (spec.action !== undefined) rule.action = spec.action;
    if (spec.channels !== undefined) rule.channels = new Set<Channel>(spec.channels);
    // A weight-0 rule without an action only makes sense as a building block of composites.
    if (rule.weight === 0 && rule.action === undefined && !referenced.has(spec.id)) {
      at(spec.source, `rule ${spec.id}: needs a weight or an action (or a composite that uses it), or it can never matter`);
    }

    switch (spec.kind) {
      case 'phrase':
        for (const phrase of spec.phrases!.flatMap((template) => {
          try {
            return expandPhrase(template);
          } catch (e) {
            at(spec.source, `rule ${spec.id}: ${(e as Error).message}`);
            return [];
          }
        })) {
          const forms = phrase
            .split(/\s+/)
            .flatMap((part) => (part === WILDCARD ? [WILDCARD] : spec.keepDoubles === true ? doubledFormsOf(part) : formsOf(part)));
          if (forms.length === 0 || forms.every((f) => f === WILDCARD)) at(spec.source, `rule ${spec.id}: phrase "${phrase}" has no words`);
          else phrases.add(forms, index);
        }
        break;
      case 'regex': {
        const shape = regexShapeError(spec.pattern!);
        const unsafe = shape ?? options.regexSafety(spec.pattern!);
        if (unsafe !== null) at(spec.source, `rule ${spec.id}: pattern /${spec.pattern}/ refused: ${unsafe}`);
        else regexes.push({ pattern: spec.pattern!, rule: index });
        break;
      }
      case 'domain': {
        const list = source.lists.get(spec.list!);
        if (list === undefined) at(spec.source, `rule ${spec.id}: unknown list ${spec.list}`);
        else domainRules.push({ rule: index, list: new DomainSet(list), listName: spec.list! });
        break;
      }
      case 'url':
        urlRules.push({ rule: index, feature: spec.feature! });
        break;
      case 'sender':
        senderRules.push({ rule: index, test: senderTest(spec) });
        break;
      case 'evasion':
        evasionRules.push({ rule: index, signal: spec.signal!, min: spec.min ?? 1 });
        break;
      case 'composite': {
        const refs = (ids: string[] | undefined) =>
          (ids ?? []).flatMap((id) => {
            const i = byId.get(id);
            if (i === undefined) {
              at(spec.source, `rule ${spec.id}: refers to unknown rule ${id}`);
              return [];
            }
            if (i >= index) {
              at(spec.source, `rule ${spec.id}: refers to ${id}, which must be defined before it`);
              return [];
            }
            return [i];
          });
        composites.push({ rule: index, all: refs(spec.all), any: refs(spec.any), none: refs(spec.none) });
        break;
      }
    }
    return rule;
  });

  if (problems.length > 0) throw new PackError(problems);

  const policy: CompiledPolicy = {
    name: source.name,
    version: source.version,
    policyVersion: `${source.name}@${source.version}+${source.hash.slice(0, 8)}`,
    thresholds: source.thresholds,
    rules,
    phrases,
    regexes: new RegexSet(regexes),
    domainRules,
    urlRules,
    senderRules,
    evasionRules,
    composites,
    brands: source.brands.map((b) => makeBrand(b.name, b.domains)),
    models: source.models,
  };

  if (options.testExamples !== false) {
    const { failures } = runExamples(policy, source.rules);
    if (failures.length > 0) throw new PackError(failures.map((f) => ({ ...f.source, message: f.message })));
  }
  return policy;
}

export interface ExampleFailure {
  rule: string;
  source: SourceLocation;
  kind: 'hit' | 'miss';
  example: string;
  message: string;
}

export interface ExampleReport {
  checked: number;
  failures: ExampleFailure[];
}

function exampleMessage(ex: ExampleSpec, n: number): Message {
  const spec = typeof ex === 'string' ? { body: ex } : ex;
  return {
    id: `example-${n}`,
    customer: 'pack-test',
    channel: spec.channel ?? 'sms',
    from: spec.from ?? '+15005550006',
    to: '+15005550001',
    body: spec.body,
    ...(spec.mediaUrls ? { mediaUrls: spec.mediaUrls } : {}),
  };
}

/** Runs every rule's HIT and MISS examples: a HIT must trigger the rule, a MISS must not. */
export function runExamples(policy: CompiledPolicy, rules: readonly LocatedRule[]): ExampleReport {
  const failures: ExampleFailure[] = [];
  let checked = 0;
  const ctx = { policy, newId: () => 'example', includeHelperRules: true };
  for (const rule of rules) {
    for (const kind of ['hit', 'miss'] as const) {
      for (const ex of rule.examples[kind]) {
        checked++;
        const decision = screen(exampleMessage(ex, checked), ctx);
        const fired = decision.reasons.some((r) => r.rule === rule.id);
        if (fired !== (kind === 'hit')) {
          const body = typeof ex === 'string' ? ex : ex.body;
          failures.push({
            rule: rule.id,
            source: rule.source,
            kind,
            example: body,
            message: `rule ${rule.id}: ${kind.toUpperCase()} example ${kind === 'hit' ? 'did not match' : 'matched'}: ${JSON.stringify(body)}`,
          });
        }
      }
    }
  }
  return { checked, failures };
}
