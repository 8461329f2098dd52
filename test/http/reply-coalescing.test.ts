import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { endOfLoopTurn } from '../../src/http/reply-coalescing.js';

describe('endOfLoopTurn', () => {
  it('callers in one turn share one wait, which ends in the check phase of that turn', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('immediate queued first'));
    const a = endOfLoopTurn();
    const b = endOfLoopTurn();
    assert.equal(a, b, 'one timer per turn');
    const timer = setTimeout(() => order.push('timer'), 20);
    await a;
    order.push('turn ended');
    clearTimeout(timer);
    assert.deepEqual(order, ['immediate queued first', 'turn ended']);
    const c = endOfLoopTurn();
    assert.notEqual(c, a, 'the next turn gets a new wait');
    await c;
  });
});
