import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../errors.js';
import { parseLossConfig, LossConfigSchema } from './config.js';

test('defaults are filled in', () => {
  assert.deepEqual(parseLossConfig({ type: 'l2' }, 'r.json'), {
    type: 'l2',
    schedule: 'constant',
    c: 1,
    scale: 1,
    reversed: false,
    deltaPer: 'sample',
    tPer: 'item',
    scope: 'diffusion',
    tMax: 1,
  });
  const k = parseLossConfig({ type: 'pseudo-huber', schedule: 'exponential', c: 0.1 }, 'r.json');
  assert.equal(k.schedule, 'exponential');
  assert.equal(k.c, 0.1);
  assert.equal(LossConfigSchema.parse({ type: 'huber' }).c, 1);
});

function rejects(obj: unknown, ...parts: (string | RegExp)[]): void {
  assert.throws(
    () => parseLossConfig(obj, 'recipes/x.json'),
    (err: unknown) => {
      assert.ok(err instanceof UserError, 'a UserError');
      assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
      assert.ok(err.message.startsWith('recipes/x.json: '), `names the source: ${err.message}`);
      for (const p of parts) assert.match(err.message, typeof p === 'string' ? new RegExp(p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : p);
      return true;
    },
  );
}

test('unknown type lists the valid choices and names loss.type', () => {
  rejects({ type: 'huberish' }, 'loss.type', '"l2", "l1", "huber", "pseudo-huber", "pseudo-huber-lcm", "smooth-l1"', 'got "huberish"');
  rejects({}, /loss\.type: missing \(expected one of "l2", "l1", "huber", "pseudo-huber"/);
});

test('unknown schedule lists the valid choices', () => {
  rejects({ type: 'pseudo-huber', schedule: 'cosine' }, 'loss.schedule', '"constant", "exponential", "snr"');
});

test('c ≤ 0 or not a number is rejected naming loss.c', () => {
  rejects({ type: 'pseudo-huber', c: 0 }, 'loss.c', '> 0');
  rejects({ type: 'pseudo-huber', c: -0.1 }, 'loss.c', '-0.1');
  rejects({ type: 'pseudo-huber', c: '0.1' }, 'loss.c', 'number');
  rejects({ type: 'pseudo-huber', scale: 0 }, 'loss.scale');
});

test("other mistakes: unknown key (the valid ones listed), not an object, bad deltaPer; the SDE is not the loss's", () => {
  rejects(
    { type: 'l2', delta: 3 },
    /^recipes\/x\.json: loss: unknown key 'delta' \(valid: type, schedule, c, scale, reversed, deltaPer, tPer, scope, tMax\)$/,
  );
  rejects({ type: 'l2', shedule: 'snr' }, "loss: unknown key 'shedule'");
  rejects(5, /^recipes\/x\.json: loss: expected an object like/);
  rejects({ type: 'l2', deltaPer: 'step' }, 'loss.deltaPer', '"sample", "batch"');
  rejects({ type: 'l2', beta0: 0.05 }, "loss: unknown key 'beta0'");
  rejects({ type: 'l2', reversed: 'yes' }, 'loss.reversed');
  rejects({ type: 'l2', tPer: 'sample' }, 'loss.tPer', '"item", "batch"');
  rejects({ type: 'l2', scope: 'prior' }, 'loss.scope', '"diffusion", "all"');
});
