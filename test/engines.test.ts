// Every installed package supports the Node versions package.json declares, so `npm ci` prints no
// EBADENGINE warning: the packages Warden runs on for Node 20 and 22 from their first releases on,
// the development tools for the running Node (eslint 10 needs 20.19 or 22.13 and later).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(resolve(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; dev?: boolean; engines?: { node?: string } }>;
};

function refusing(version: string, include: (p: { dev?: boolean }) => boolean): string[] {
  return Object.entries(lock.packages)
    .filter(([name, p]) => name !== '' && include(p) && p.engines?.node !== undefined && !semver.satisfies(version, p.engines.node))
    .map(([name, p]) => `${name.replace(/^.*node_modules\//, '')}@${p.version}: node ${p.engines?.node}`);
}

test('the packages Warden runs on support Node 20 and 22', () => {
  for (const version of ['20.0.0', '22.0.0']) {
    assert.ok(semver.satisfies(version, pkg.engines.node), `package.json declares ${pkg.engines.node}`);
    assert.deepEqual(
      refusing(version, (p) => p.dev !== true),
      [],
      `Node ${version}`,
    );
  }
});

test('every installed package, development tools included, supports the running Node', () => {
  assert.deepEqual(
    refusing(process.versions.node, () => true),
    [],
  );
});

test('the check is not vacuous: it refuses a package that wants a later Node', () => {
  assert.ok(Object.values(lock.packages).filter((p) => p.engines?.node !== undefined).length > 50, 'the lockfile records engines');
  assert.equal(semver.satisfies('20.20.2', '>=22'), false);
  assert.deepEqual(refusing('18.0.0', (p) => p.dev !== true).length > 0, true, 'Node 18 is refused by some package');
});
