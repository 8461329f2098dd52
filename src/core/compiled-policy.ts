// The in-memory form of a policy version that the screening core runs: matchers built once at
// load time (src/policy/compile.ts) and shared by every message screened under that version.

import type { Action, Channel } from './types.js';
import type { PhraseMatcher } from './phrase-matcher.js';
import type { RegexSet } from './regex-set.js';
import type { Brand } from './brands.js';
import type { DomainSet } from './domain-set.js';
import type { EvasionSignals, NormalisedText } from './normalise.js';

export type RuleKind = 'phrase' | 'regex' | 'domain' | 'url' | 'sender' | 'evasion' | 'composite';

export type UrlFeature = 'any' | 'ip-host' | 'idn' | 'homograph' | 'executable' | 'userinfo' | 'defanged' | 'brand-lookalike' | 'port';

export interface CompiledRule {
  index: number;
  id: string;
  clause: string;
  kind: RuleKind;
  weight: number;
  description: string;
  action?: Action;
  shadow: boolean;
  /** Channels the rule applies to; undefined means all. */
  channels?: ReadonlySet<Channel>;
}

export interface Thresholds {
  /** Score at or above which a message is held for a person. */
  review: number;
  /** Score at or above which a message is refused. */
  block: number;
}

/** A statistical content model plugged into the core; it must be pure and synchronous. */
export interface ContentModel {
  readonly name: string;
  predict(text: NormalisedText): ModelSignal[];
}

export interface ModelSignal {
  clause: string;
  label: string;
  probability: number;
  /** Weight already scaled from the probability by the model's configuration. */
  weight: number;
  /** Strongest contributing features, for the decision's evidence. */
  features: Array<{ feature: string; start: number; end: number }>;
}

export interface CompiledPolicy {
  name: string;
  version: string;
  /** `name@version+hash`: what every decision cites. */
  policyVersion: string;
  thresholds: Thresholds;
  rules: readonly CompiledRule[];
  phrases: PhraseMatcher;
  regexes: RegexSet;
  domainRules: ReadonlyArray<{ rule: number; list: DomainSet; listName: string }>;
  urlRules: ReadonlyArray<{ rule: number; feature: UrlFeature }>;
  senderRules: ReadonlyArray<{ rule: number; test: (from: string) => boolean }>;
  evasionRules: ReadonlyArray<{ rule: number; signal: keyof EvasionSignals; min: number }>;
  /** In dependency order: a composite only refers to rules before it. */
  composites: ReadonlyArray<{ rule: number; all: number[]; any: number[]; none: number[] }>;
  brands: readonly Brand[];
  models: readonly ContentModel[];
}
