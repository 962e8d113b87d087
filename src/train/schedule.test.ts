import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learningRateAt, type LrSchedule } from './schedule.js';

const base: LrSchedule = { lr: 1e-3, warmupSteps: 100, decay: 'cosine', minLrFactor: 0.1, steps: 1100 };

test('lr schedule: linear warmup reaches lr at warmupSteps', () => {
  assert.equal(learningRateAt(1, base), 1e-5);
  assert.equal(learningRateAt(50, base), 5e-4);
  assert.equal(learningRateAt(100, base), 1e-3);
});

test('lr schedule: cosine from lr to minLrFactor·lr, half way at the midpoint, flat after steps', () => {
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-15, `${a} vs ${b}`);
  close(learningRateAt(100, base), 1e-3);
  close(learningRateAt(600, base), 1e-4 + 0.5 * 9e-4); // p = ½: cos(π/2) = 0
  close(learningRateAt(350, base), 1e-4 + 0.5 * 9e-4 * (1 + Math.cos(Math.PI / 4)));
  close(learningRateAt(1100, base), 1e-4);
  close(learningRateAt(5000, base), 1e-4);
  // monotone after warmup
  for (let s = 101; s <= 1100; s += 37) assert.ok(learningRateAt(s, base) <= learningRateAt(s - 1, base));
});

test('lr schedule: constant and no warmup', () => {
  const c: LrSchedule = { ...base, warmupSteps: 0, decay: 'constant' };
  for (const s of [1, 10, 10_000]) assert.equal(learningRateAt(s, c), 1e-3);
  const got = learningRateAt(1, { ...base, warmupSteps: 0 });
  const want = 1e-4 + 0.5 * 9e-4 * (1 + Math.cos(Math.PI / 1100));
  assert.ok(Math.abs(got - want) < 1e-15, `${got} vs ${want}`);
});
