import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram } from './main.js';
import { BACKEND_NAMES } from '../backend/index.js';

test('the global --backend help names every backend initBackend accepts, webgpu included', () => {
  const help = buildProgram().helpInformation().replace(/\s+/g, ' ');
  const line = /--backend <name> (.*?) -h, --help/.exec(help)?.[1] ?? '';
  for (const name of BACKEND_NAMES) assert.match(line, new RegExp(`\\b${name}\\b`), `${name} missing from: ${line}`);
  assert.ok(line.includes('webgpu'));
});
