// Child process of the multi-process SQLite test (cluster.test.ts): opens the data directory given
// as argv[2] (migrating it if fresh, like a cluster worker would) and appends argv[3] audit entries
// and as many consent events, as fast as it can, then prints what it appended as JSON.

import { openSqliteDatabase, SqliteStores } from '../../src/store/sqlite/sqlite-stores.js';

const [dataDir, countText, tag] = process.argv.slice(2);
// `npm test` runs every file under dist/test/, this one too, without arguments: nothing to do then.
if (dataDir === undefined) process.exit(0);
const count = Number(countText);
const s = new SqliteStores(openSqliteDatabase(dataDir));
const at = () => new Date().toISOString();
const seqs: number[] = [];
const consent: number[] = [];
// A few writes in flight at a time: they share a group commit, and the commits of the processes interleave.
for (let i = 0; i < count; i += 4) {
  await Promise.all(
    Array.from({ length: Math.min(4, count - i) }, async (_, j) => {
      const n = i + j;
      const [a, c] = await Promise.all([
        s.audit.append({ actor: `writer-${tag}`, action: 'test.write', subject: `${tag}:${n}`, at: at() }),
        s.consent.append({
          customer: 'multi',
          recipient: `+1555${tag}${String(n).padStart(5, '0')}`,
          kind: 'opt-out',
          source: 'api',
          at: at(),
        }),
      ]);
      seqs.push(a.seq);
      consent.push(c.seq);
    }),
  );
}
await s.close();
process.stdout.write(JSON.stringify({ audit: seqs, consent }) + '\n');
