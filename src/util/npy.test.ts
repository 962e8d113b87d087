import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNpy, writeNpy, encodeNpy, parseNpy } from './npy.js';
import { UserError } from '../errors.js';
import { speechFixtures } from '../testing/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'difftts-npy-'));

/** Builds a .npy 1.0 file by hand from a header dict and raw bytes. */
function handMade(header: string, body: Uint8Array): Uint8Array {
  let h = header;
  const pad = (64 - ((10 + h.length + 1) % 64)) % 64;
  h += ' '.repeat(pad) + '\n';
  const out = new Uint8Array(10 + h.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, h.length, true);
  out.set(Buffer.from(h, 'latin1'), 10);
  out.set(body, 10 + h.length);
  return out;
}

test('npy: round trip keeps values and shape; header is 64-byte aligned as NumPy writes it', () => {
  const data = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3.25);
  const p = join(dir, 'a.npy');
  writeNpy(p, data, [2, 3, 4]);
  const bytes = readFileSync(p);
  const headerLen = bytes.readUInt16LE(8);
  assert.equal((10 + headerLen) % 64, 0);
  assert.match(
    bytes.subarray(10, 10 + headerLen).toString('latin1'),
    /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3, 4\), \} *\n$/,
  );
  const back = readNpy(p, { rank: 3 });
  assert.deepEqual(back.shape, [2, 3, 4]);
  assert.deepEqual(Array.from(back.data), Array.from(data));
  // 1-D shape uses NumPy's "(n,)" tuple syntax
  assert.match(Buffer.from(encodeNpy(new Float32Array(3), [3])).toString('latin1'), /'shape': \(3,\)/);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.tmp-')),
    [],
    'no temp files left',
  );
});

test('npy: reads the NumPy-written fixtures (float32 [80, frames])', () => {
  const f = speechFixtures()[0]!;
  const m = readNpy(f.mel, { rank: 2 });
  assert.equal(m.shape[0], 80);
  assert.equal(m.shape[1], 611);
  assert.equal(m.data.length, 80 * 611);
  assert.ok(m.data.every((v) => Number.isFinite(v) && v >= Math.log(1e-5) - 1e-6));
});

test('npy: <f8 is converted to float32', () => {
  const body = new Uint8Array(16);
  new DataView(body.buffer).setFloat64(0, 1.5, true);
  new DataView(body.buffer).setFloat64(8, -2.25, true);
  const r = parseNpy(handMade("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", body), 'x.npy');
  assert.deepEqual(Array.from(r.data), [1.5, -2.25]);
});

test('npy: wrong dtype, Fortran order, wrong rank, truncation and non-npy are one-line UserErrors naming the file', () => {
  const cases: [Uint8Array, RegExp, number?][] = [
    [handMade("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(4)), /bad\.npy: dtype '<i2'.*expected float32/],
    [handMade("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(8)), /dtype '>f4'/],
    [handMade("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new Uint8Array(16)), /Fortran-order/],
    [handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", new Uint8Array(16)), /rank 2.*expected rank 3/, 3],
    [handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", new Uint8Array(12)), /truncated/],
    [Buffer.from('RIFF....WAVEfmt '), /not a NumPy \.npy file/],
  ];
  for (const [bytes, re, rank] of cases) {
    const p = join(dir, 'bad.npy');
    writeFileSync(p, bytes);
    assert.throws(
      () => readNpy(p, rank ? { rank } : {}),
      (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n') && e.message.startsWith(p),
    );
  }
  assert.throws(
    () => readNpy(join(dir, 'missing.npy')),
    (e: unknown) => e instanceof UserError && /missing\.npy: cannot read \(ENOENT\)/.test(e.message),
  );
  assert.ok(!existsSync(join(dir, 'missing.npy')));
});
