import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainSet } from '../../src/core/domain-set.js';

test('a host is found under its own name or any parent domain, most specific first', () => {
  const set = new DomainSet(['example.com', 'b.example.com', 'Bit.ly']);
  assert.equal(set.match('a.b.example.com'), 'b.example.com');
  assert.equal(set.match('c.example.com'), 'example.com');
  assert.equal(set.match('example.com'), 'example.com');
  assert.equal(set.match('bit.ly'), 'bit.ly');
  assert.equal(set.match('example.org'), undefined);
  assert.equal(set.match('notexample.com'), undefined);
  assert.equal(set.size, 3);
  assert.equal(set.maxLabels, 3);
});

test('a bare TLD on the list matches only the host that is the TLD itself', () => {
  const set = new DomainSet(['com', 'localhost']);
  assert.equal(set.match('example.com'), undefined);
  assert.equal(set.match('com'), 'com');
  assert.equal(set.match('localhost'), 'localhost');
});

test('hosts with more labels than any entry are still found by their parents', () => {
  const set = new DomainSet(['evil.ru']);
  assert.equal(set.match(`${'a.'.repeat(5000)}evil.ru`), 'evil.ru');
  assert.equal(set.match(`${'a.'.repeat(5000)}good.ru`), undefined);
  assert.equal(set.match('.evil.ru'), 'evil.ru');
  assert.equal(set.match('..'), undefined);
  assert.equal(new DomainSet([]).match('evil.ru'), undefined);
});

test('a lookup costs the labels of the longest entry, not the labels of the host', () => {
  const set = new DomainSet(['evil.ru', 'x.y.evil.ru']);
  const time = (host: string) => {
    let best = Infinity;
    for (let r = 0; r < 20; r++) {
      const t = process.hrtime.bigint();
      for (let k = 0; k < 50; k++) set.match(host);
      best = Math.min(best, Number(process.hrtime.bigint() - t));
    }
    return best;
  };
  const short = time(`${'a.'.repeat(100)}com`);
  const long = time(`${'a.'.repeat(100_000)}com`);
  // 1,000 times the labels; listing every suffix made this about a million times slower.
  assert.ok(long < short * 20 + 200_000, `short ${short} ns, long ${long} ns`);
});
