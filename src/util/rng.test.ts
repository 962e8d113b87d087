import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ItemDraws, Rng } from './rng.js';

test('same seed gives the same stream; state round-trips through JSON', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  for (let i = 0; i < 10; i++) assert.equal(a.nextU32(), b.nextU32());
  a.normal();
  const saved = JSON.parse(JSON.stringify(a.state()));
  const c = Rng.fromState(saved);
  for (let i = 0; i < 10; i++) assert.equal(a.normal(), c.normal());
  assert.notEqual(new Rng(1).nextU32(), new Rng(2).nextU32());
});

test('normals have mean ≈ 0 and variance ≈ 1; uniform in [0,1)', () => {
  const r = new Rng(7);
  const x = r.normals(100000);
  let m = 0;
  for (const v of x) m += v;
  m /= x.length;
  let v2 = 0;
  for (const v of x) v2 += (v - m) ** 2;
  v2 /= x.length;
  assert.ok(Math.abs(m) < 0.02, `mean ${m}`);
  assert.ok(Math.abs(v2 - 1) < 0.02, `var ${v2}`);
  for (let i = 0; i < 1000; i++) {
    const u = r.uniform();
    assert.ok(u >= 0 && u < 1);
  }
});

test('ItemDraws: an item keeps its stream whichever sub-batch it lands in; items differ', () => {
  const d = new ItemDraws(12345);
  const sub = d.from(3);
  for (let k = 0; k < 4; k++) assert.deepEqual(sub.rng(k).normals(8), d.rng(3 + k).normals(8));
  assert.notDeepEqual(d.rng(0).normals(4), d.rng(1).normals(4));
  assert.notDeepEqual(new ItemDraws(1).rng(0).normals(4), new ItemDraws(2).rng(0).normals(4));
});
