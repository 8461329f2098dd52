import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempPack, PACK_HEADER } from '../helpers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = join(ROOT, 'bin/warden.js');

function warden(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', cwd: ROOT, maxBuffer: 256 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('screen: one decision per line in input order; malformed lines become error records', () => {
  const input = [
    '{"id":"a","body":"hello there"}',
    '{not json',
    '{"id":"b","body":"URGENT you have won a cash prize, call 09061701851"}',
    '{"id":"c","channel":"fax","body":"x"}',
    '[1,2]',
    '',
    '{"id":"d","body":"see bit.ly/x"}',
  ].join('\n');
  const r = warden(['screen', '-'], input);
  assert.equal(r.code, 0, r.err);
  const lines = r.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 6);
  assert.equal(lines[0].messageId, 'a');
  assert.equal(lines[0].action, 'allow');
  assert.deepEqual(Object.keys(lines[1]).sort(), ['error', 'line']);
  assert.equal(lines[1].line, 2);
  assert.match(lines[1].error, /invalid JSON/);
  assert.equal(lines[2].messageId, 'b');
  assert.equal(lines[2].action, 'block');
  assert.equal(lines[3].line, 4);
  assert.match(lines[3].error, /channel/);
  assert.equal(lines[4].line, 5);
  assert.equal(lines[5].messageId, 'd');
  assert.match(r.err, /3 of 6 lines could not be screened/);
});

test('screen: a missing input file is an I/O failure with a non-zero exit', () => {
  const r = warden(['screen', join(tmpdir(), 'warden-no-such-file.jsonl')]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /ENOENT|no such file/);
});

test('screen: a broken pack is refused with file and line, exit 2', () => {
  const dir = tempPack(PACK_HEADER, { 'r.yaml': 'rules:\n  - id: x\n    kind: phrase\n' });
  const r = warden(['screen', '--pack', dir, '-'], '{"body":"x"}\n');
  assert.equal(r.code, 2);
  assert.match(r.err, /r\.yaml:2/);
});

test('pack test: passes on the default pack and fails on a broken example', () => {
  const ok = warden(['pack', 'test']);
  assert.equal(ok.code, 0, ok.out);
  assert.match(ok.out, /0 failed/);
  const dir = tempPack(PACK_HEADER, {
    'r.yaml': `rules:
  - id: p.rule
    clause: content.unwanted.spam
    kind: phrase
    weight: 5
    description: p
    phrases: [buy now]
    examples: { hit: [purchase], miss: [bye] }
`,
  });
  const bad = warden(['pack', 'test', dir]);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /FAIL .*r\.yaml:2 rule p\.rule: HIT example did not match/);
});

test('eval: reports precision, recall, FPR and a confusion matrix from a labelled CSV', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-eval-'));
  const csv = join(dir, 'data.csv');
  writeFileSync(
    csv,
    [
      'id,label,text',
      '1,spam,"URGENT! You have won a £1000 cash prize, call 09061701851 now"',
      '2,spam,"Free entry, txt WIN to 80082, T&Cs apply"',
      '3,ham,"See you at the pub, bring cash"',
      '4,ham,"Running late, ""sorry"", be there soon"',
      '5,spam,"hello how are you"',
    ].join('\n'),
  );
  const r = warden(['eval', '--dataset', csv, '--positive', 'spam', '--json']);
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(r.out);
  assert.equal(report.total, 5);
  assert.equal(report.labels.find((l: { label: string }) => l.label === 'ham').flagged, 0);
  assert.ok(Math.abs(report.recall - 2 / 3) < 1e-9, String(report.recall));
  assert.equal(report.precision, 1);
  assert.equal(report.falsePositiveRate, 0);
  assert.equal(report.confusion.ham.allow, 2);
  const text = warden(['eval', '--dataset', csv, '--positive', 'spam']);
  assert.match(text.out, /precision 1\.0000 {2}recall 0\.6667/);
  assert.match(text.out, /confusion \(label x action\)/);
  const missing = warden(['eval', '--dataset', csv, '--text-column', 'body']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /no column "body"/);
});

test('screen --workers: worker threads keep input order and line numbers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-workers-'));
  const file = join(dir, 'in.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < 4500; i++) {
    lines.push(
      i === 2999
        ? '{broken'
        : JSON.stringify({ id: `m${i}`, body: i % 2 ? 'see you at 6' : 'URGENT! you have won a cash prize, call 09061701851' }),
    );
  }
  writeFileSync(file, lines.join('\n') + '\n');
  const r = warden(['screen', '--workers', '2', file]);
  assert.equal(r.code, 0, r.err);
  const out = r.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(out.length, 4500);
  assert.deepEqual(out[2999], { line: 3000, error: out[2999].error });
  assert.match(out[2999].error, /invalid JSON/);
  for (const i of [0, 1, 2000, 2001, 4499]) {
    assert.equal(out[i].messageId, `m${i}`);
    assert.equal(out[i].action, i % 2 ? 'allow' : 'block');
  }
});

test('screen --rules-only: the same pack without its statistical model', () => {
  const input = '{"id":"x","body":"Free entry in 2 a wkly comp to win FA Cup final tkts, text FA to 87121"}\n';
  const withModel = JSON.parse(warden(['screen', '-'], input).out);
  const rulesOnly = JSON.parse(warden(['screen', '--rules-only', '-'], input).out);
  assert.ok(
    withModel.reasons.some((r: { rule: string }) => r.rule.startsWith('model.')),
    'the default screens with the model',
  );
  assert.ok(!rulesOnly.reasons.some((r: { rule: string }) => r.rule.startsWith('model.')), '--rules-only has no model reasons');
  assert.ok(rulesOnly.reasons.length > 0);
});
