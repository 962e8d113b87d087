/**
 * NumPy .npy files (format 1.0/2.0/3.0 read, 1.0 written), the exchange format for mels and
 * features. We write only little-endian float32 in C order ('<f4'); we read '<f4' and '<f8'
 * (converted to float32) and refuse anything else with a one-line UserError naming the file.
 * Spec: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';

export interface NpyArray {
  /** Row-major (C order) values. */
  data: Float32Array;
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Reads a .npy file. `opts.rank` (e.g. 2 for a mel [nMels, frames]) makes a different rank a
 * UserError instead of a surprise further down.
 */
export function readNpy(path: string, opts: { rank?: number } = {}): NpyArray {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new UserError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'}) (expected a .npy file)`);
  }
  return parseNpy(buf, path, opts);
}

/** Parses .npy bytes; `name` is used in error messages. */
export function parseNpy(buf: Uint8Array, name: string, opts: { rank?: number } = {}): NpyArray {
  const fail = (what: string): never => {
    throw new UserError(`${name}: ${what}`);
  };
  if (buf.length < 10 || !MAGIC.every((b, i) => buf[i] === b)) fail('not a NumPy .npy file (expected the \\x93NUMPY magic)');
  const major = buf[6]!;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) fail('truncated .npy header');
    headerLen = dv.getUint32(8, true);
    headerStart = 12;
  } else {
    return fail(`unsupported .npy format version ${major}.${buf[7]} (expected 1.0, 2.0 or 3.0)`);
  }
  if (headerStart + headerLen > buf.length) fail('truncated .npy header');
  const header = Buffer.from(buf.buffer, buf.byteOffset + headerStart, headerLen).toString('latin1');

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(`malformed .npy header '${header.trim()}' (expected descr, fortran_order and shape)`);
  }
  if (descr !== '<f4' && descr !== '<f8') fail(`dtype '${descr}' is not supported (expected float32 '<f4' or float64 '<f8')`);
  if (fortran === 'True') fail('Fortran-order array (expected C order; save with np.ascontiguousarray)');
  const shape = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`bad shape (${shapeText}) in .npy header`);
  if (opts.rank !== undefined && shape.length !== opts.rank) {
    fail(`array has rank ${shape.length} (shape [${shape.join(', ')}]) (expected rank ${opts.rank})`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const itemSize = descr === '<f4' ? 4 : 8;
  const dataStart = headerStart + headerLen;
  if (buf.length - dataStart < count * itemSize) {
    fail(`data is truncated: ${buf.length - dataStart} bytes for shape [${shape.join(', ')}] (expected ${count * itemSize})`);
  }
  const data = new Float32Array(count);
  if (itemSize === 4) {
    // Copy through bytes: the data offset need not be 4-aligned in the source buffer.
    new Uint8Array(data.buffer).set(buf.subarray(dataStart, dataStart + count * 4));
    if (!littleEndianHost) for (let i = 0; i < count; i++) data[i] = dv.getFloat32(dataStart + 4 * i, true);
  } else {
    for (let i = 0; i < count; i++) data[i] = dv.getFloat64(dataStart + 8 * i, true);
  }
  return { data, shape };
}

const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Encodes a float32 C-order array as .npy 1.0 bytes ('<f4'). */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`encodeNpy: shape [${shape.join(', ')}] holds ${count} values, data has ${data.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad with spaces so that magic + version + length + header + '\n' is a multiple of 64.
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(Buffer.from(header, 'latin1'), 10);
  const body = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < data.length; i++) body.setFloat32(4 * i, data[i]!, true);
  return out;
}

/** Writes a float32 C-order array to `path` atomically as .npy 1.0 ('<f4'). */
export function writeNpy(path: string, data: Float32Array, shape: readonly number[]): void {
  writeFileAtomic(path, encodeNpy(data, shape));
}
