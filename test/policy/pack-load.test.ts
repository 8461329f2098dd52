import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPack } from '../../src/policy/load-pack.js';
import { PackError } from '../../src/policy/compile.js';
import { ActivePolicy } from '../../src/policy/active-policy.js';
import { checkRegexSafety } from '../../src/policy/regex-safety.js';
import { regexShapeError } from '../../src/core/regex-set.js';
import { tempPack, PACK_HEADER, policyFrom } from '../helpers.js';

const GOOD_RULE = `rules:
  - id: ok.rule
    clause: content.unwanted.spam
    kind: phrase
    weight: 5
    description: ok
    phrases: [buy now]
    examples: { hit: [buy now], miss: [bye now] }
`;

function problemsOf(dir: string): PackError['problems'] {
  try {
    loadPack(dir);
  } catch (e) {
    assert.ok(e instanceof PackError, `expected PackError, got ${e}`);
    return e.problems;
  }
  assert.fail('pack loaded but should have been refused');
}

test('YAML syntax errors name the file and line', () => {
  const dir = tempPack(PACK_HEADER, { 'bad.yaml': 'rules:\n  - id: x\n    phrases: [unclosed\n' });
  const [p] = problemsOf(dir);
  assert.match(p.file, /bad\.yaml$/);
  assert.ok(p.line >= 3, `line ${p.line}`);
  assert.match(p.message, /YAML/);
});

test('schema errors name the line of the offending field', () => {
  const dir = tempPack(PACK_HEADER, { 'r.yaml': GOOD_RULE.replace('weight: 5', 'weight: lots') });
  const problems = problemsOf(dir);
  const p = problems.find((x) => /weight/.test(x.message));
  assert.ok(p, JSON.stringify(problems));
  assert.equal(p.line, 5);
});

test('unknown fields and unknown clauses are refused', () => {
  const unknownField = tempPack(PACK_HEADER, { 'r.yaml': GOOD_RULE.replace('weight: 5', 'weight: 5\n    wieght: 3') });
  assert.ok(problemsOf(unknownField).some((p) => /unknown field "wieght"/.test(p.message)));
  const unknownClause = tempPack(PACK_HEADER, { 'r.yaml': GOOD_RULE.replace('content.unwanted.spam', 'content.nonsense') });
  const [p] = problemsOf(unknownClause);
  assert.match(p.message, /unknown clause content.nonsense/);
  assert.equal(p.line, 2);
});

test('a pack may declare sub-clauses below catalogue clauses only', () => {
  const ok = tempPack(`${PACK_HEADER}clauses:\n  - { id: content.unwanted.crypto, summary: crypto promos }\n`, {
    'r.yaml': GOOD_RULE.replace('content.unwanted.spam', 'content.unwanted.crypto'),
  });
  assert.equal(loadPack(ok).policy.rules[0].clause, 'content.unwanted.crypto');
  const bad = tempPack(`${PACK_HEADER}clauses:\n  - { id: made.up, summary: x }\n`, { 'r.yaml': GOOD_RULE });
  assert.ok(problemsOf(bad).some((p) => /not below a catalogue clause/.test(p.message)));
});

test('regexes that can backtrack catastrophically are refused at load', () => {
  const rule = (pattern: string) => `rules:
  - id: re.rule
    clause: content.unwanted.spam
    kind: regex
    weight: 5
    description: re
    pattern: '${pattern}'
    examples: { hit: [aaaa], miss: [bbbb] }
`;
  const [p] = problemsOf(tempPack(PACK_HEADER, { 'r.yaml': rule('(a+)+$') }));
  assert.match(p.message, /catastrophically/);
  assert.equal(p.line, 2);
  assert.ok(problemsOf(tempPack(PACK_HEADER, { 'r.yaml': rule('(a|aa)*c') })).length > 0);
  // A linear pattern loads.
  assert.equal(loadPack(tempPack(PACK_HEADER, { 'r.yaml': rule('a{4}') })).policy.rules.length, 1);
});

test('the safety check itself distinguishes safe from exponential patterns', () => {
  assert.equal(checkRegexSafety('\\bfree\\s(?:gift|prize)\\b'), null);
  assert.match(checkRegexSafety('^(\\w+\\s?)*$') ?? '', /exponential|polynomial/);
});

test('patterns that cannot sit in the combined matcher are refused', () => {
  assert.match(regexShapeError('(a)\\1') ?? '', /backreferences/);
  assert.match(regexShapeError('(?<x>a)') ?? '', /named groups/);
  assert.match(regexShapeError('a*') ?? '', /empty string/);
  assert.match(regexShapeError('(') ?? '', /does not compile/);
});

test('a rule whose HIT example does not match refuses the pack', () => {
  const dir = tempPack(PACK_HEADER, { 'r.yaml': GOOD_RULE.replace('hit: [buy now]', 'hit: [purchase today]') });
  const [p] = problemsOf(dir);
  assert.match(p.message, /HIT example did not match: "purchase today"/);
});

test('a rule whose MISS example matches refuses the pack', () => {
  const dir = tempPack(PACK_HEADER, { 'r.yaml': GOOD_RULE.replace('miss: [bye now]', 'miss: [BUY N0W]') });
  assert.match(problemsOf(dir)[0].message, /MISS example matched/);
});

test('duplicate ids, unknown lists and composites that refer forward are refused', () => {
  const dup = tempPack(PACK_HEADER, { 'a.yaml': GOOD_RULE, 'b.yaml': GOOD_RULE });
  assert.ok(problemsOf(dup).some((p) => /duplicate rule id ok.rule/.test(p.message)));
  const list = tempPack(PACK_HEADER, {
    'r.yaml': `rules:
  - id: d.rule
    clause: integrity.harmful-code
    kind: domain
    list: nowhere
    weight: 5
    description: d
    examples: { hit: [x.com/a], miss: [y] }
`,
  });
  assert.ok(problemsOf(list).some((p) => /unknown list nowhere/.test(p.message)));
});

test('domain lists load from text and CSV files, with filters', () => {
  const rules = `rules:
  - id: d.rule
    clause: content.unwanted.shortener
    kind: domain
    list: short
    weight: 10
    description: shortener
    examples: { hit: [see short.link/abc], miss: [see dead.link/abc] }
`;
  const header = `lists:\n  short: { file: short.csv, column: domain, where: { status: active } }\n`;
  const policy = policyFrom(rules, header, { 'short.csv': 'domain,status\nshort.link,active\ndead.link,inactive\n' });
  assert.equal(policy.domainRules[0].list.size, 1);
});

test('the last good policy stays active when a reload fails', () => {
  const good = tempPack(PACK_HEADER, { 'r.yaml': GOOD_RULE });
  const broken = tempPack(PACK_HEADER, { 'r.yaml': GOOD_RULE.replace('kind: phrase', 'kind: magic') });
  const active = new ActivePolicy(loadPack(good).policy);
  const before = active.policy.policyVersion;
  const result = active.reload(() => loadPack(broken).policy);
  assert.equal(result.ok, false);
  assert.match(result.ok ? '' : result.error, /kind must be one of/);
  assert.equal(active.policy.policyVersion, before);
});

test('policy version changes when any rule changes', () => {
  const a = loadPack(tempPack(PACK_HEADER, { 'r.yaml': GOOD_RULE })).policy.policyVersion;
  const b = loadPack(tempPack(PACK_HEADER, { 'r.yaml': GOOD_RULE.replace('weight: 5', 'weight: 6') })).policy.policyVersion;
  assert.notEqual(a, b);
});
