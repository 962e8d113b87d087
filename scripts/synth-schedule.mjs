#!/usr/bin/env node
/**
 * A wall-time model of bench/synth.ts's 10-sentence file on 2 idle cores (this thread + one helper,
 * src/parallel/map-pool.ts), for when the machine is too busy to time it (issue #24): the makespan
 * from per-sentence costs ∝ frames, scaled so 1 worker takes the 11.6 s measured idle, and the
 * helper's start-up (imports, wasm, checkpoint; STARTUP s) and first-sentence warm-up (COLD s).
 * This thread reads helper messages only between its sentences (it computes synchronously).
 * The defaults (1.7 s, 0.9 s) reproduce the 8.4 s measured idle before issue #24 within 0.2 s.
 *
 *   node scripts/synth-schedule.mjs                 SCALE=s/frame STARTUP=s COLD=s override
 */
export function makespan({ costs, order, pre, startup, cold, presend, spawnAt = pre }) {
  const q = [...order];
  let tMain = pre;
  let helperFree = 0;
  const pending = []; // helper results not yet seen by main
  const ready = spawnAt + startup;
  let readySeen = false;
  let helperFirst = true;
  const helperRun = (i, at) => {
    const start = Math.max(at, helperFree, ready);
    const c = costs[i] + (helperFirst ? cold : 0);
    helperFirst = false;
    helperFree = start + c;
    return helperFree;
  };
  const give = (at) => {
    if (q.length) {
      const i = q.shift();
      pending.push(helperRun(i, at));
    }
  };
  if (presend) {
    give(spawnAt);
    give(spawnAt);
    readySeen = true;
  }
  // main loop
  while (true) {
    // boundary at tMain: process events that happened before tMain
    if (!readySeen && ready <= tMain) {
      readySeen = true;
      give(tMain);
      give(tMain);
    }
    pending.sort((a, b) => a - b);
    while (pending.length && pending[0] <= tMain) {
      pending.shift();
      give(tMain);
    }
    if (q.length) {
      const i = q.shift();
      tMain += costs[i];
      continue;
    }
    // no items left for main: it waits, handling events as they come
    if (!readySeen) {
      readySeen = true;
      tMain = Math.max(tMain, ready);
      give(tMain);
      give(tMain);
    }
    if (!pending.length) break;
    tMain = Math.max(tMain, pending.shift());
    give(tMain);
    if (!pending.length && !q.length) break;
  }
  return Math.max(tMain, helperFree);
}
const frames = [458, 502, 472, 295, 354, 415, 427, 444, 425, 369];
const ids = frames; // proxy: symbols ∝ frames for the untrained model
const scale = Number(process.env.SCALE ?? (11.6 - 0.35) / frames.reduce((a, b) => a + b)); // s per frame at idle (1 worker: 11.6 s)
const costs = frames.map((f) => f * scale);
const textOrder = frames.map((_, i) => i);
const lpt = [...textOrder].sort((a, b) => ids[b] - ids[a] || a - b);
const base = { costs, pre: 0.4, startup: Number(process.env.STARTUP ?? 1.7), cold: Number(process.env.COLD ?? 0.9) };
console.log('1 worker:', (0.35 + costs.reduce((a, b) => a + b)).toFixed(2));
console.log('old (text order, ready at a boundary):', makespan({ ...base, order: textOrder, presend: false }).toFixed(2));
console.log('pre-send, text order:', makespan({ ...base, order: textOrder, presend: true }).toFixed(2));
console.log('LPT only:', makespan({ ...base, order: lpt, presend: false }).toFixed(2));
console.log('pre-send + LPT:', makespan({ ...base, order: lpt, presend: true }).toFixed(2));
console.log('pre-send + LPT + helper spawned at 0:', makespan({ ...base, order: lpt, presend: true, spawnAt: 0 }).toFixed(2));
