import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPack, readPack, DEFAULT_PACK_DIR } from '../../src/policy/load-pack.js';
import { compilePack, runExamples } from '../../src/policy/compile.js';
import { cachedRegexSafety } from '../../src/policy/regex-safety.js';
import { CLAUSES, TOP_LEVEL_CLAUSES, parentClause } from '../../src/policy/clauses.js';

test('the catalogue holds every top-level clause, each with a summary and source', () => {
  const ids = new Set(CLAUSES.map((c) => c.id));
  for (const id of TOP_LEVEL_CLAUSES) assert.ok(ids.has(id), id);
  for (const c of CLAUSES) {
    assert.ok(c.summary.length > 10, c.id);
    assert.match(c.source, /Acceptable Use Policy/);
    assert.ok(parentClause(c.id), `${c.id} sits below a top-level clause`);
  }
  assert.equal(ids.size, CLAUSES.length, 'no duplicate clause ids');
});

test('every example of every rule in the default pack holds', () => {
  const source = readPack(DEFAULT_PACK_DIR);
  const policy = compilePack(source, { regexSafety: cachedRegexSafety, testExamples: false });
  const report = runExamples(policy, source.rules);
  assert.deepEqual(
    report.failures.map((f) => f.message),
    [],
  );
  assert.ok(report.checked >= source.rules.length * 2);
});

test('the default pack covers every content clause', () => {
  const { policy } = loadPack();
  const covered = new Set(policy.rules.map((r) => parentClause(r.clause)));
  for (const clause of [
    'content.illegal',
    'content.harmful',
    'content.unwanted',
    'content.false',
    'content.hate',
    'content.violence',
    'content.public-safety',
  ]) {
    assert.ok(covered.has(clause), `${clause} has a rule`);
  }
});

test('group hate and threat constructions hold a message for review, counter-speech and positive statements pass (rules only)', async () => {
  const { screen } = await import('../../src/core/screen.js');
  const { policy } = loadPack(undefined, { loadModel: false });
  const decide = (body: string) => screen({ id: 't', customer: 't', channel: 'sms', from: '', to: '', body }, { policy, newId: () => 't' });
  const hateOrViolence = (body: string) => {
    const d = decide(body);
    return d.action !== 'allow' && d.reasons.some((r) => /^content\.(hate|violence)/.test(r.clause) && r.weight > 0);
  };
  for (const body of [
    'Refugees are just a plague on this country',
    'Disabled people do not deserve rights',
    'I think gay people should all be hanged',
    'Women like you are not even human',
    'I will shoot every Muslim I see',
  ])
    assert.ok(hateOrViolence(body), `held: ${body}`);
  for (const body of [
    'I really admire trans people',
    'Calling immigrants vermin is racist and has to stop',
    'He was banned for posting "black people are a disease"',
    'No Jew should be killed for their faith',
    'Muslims are not at all stupid',
    'I hate my phone, it keeps dying',
  ])
    assert.ok(!hateOrViolence(body), `passed: ${body}`);
});
