/**
 * The quickstart flow behind `difftts quickstart`: train a recipe on a corpus for a time budget
 * (resuming the same run directory on every call), then synthesize one sentence to
 * OUT/quickstart.wav + OUT/quickstart.png.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendChoice } from '../backend/index.js';
import { UserError } from '../errors.js';
import type { Override } from '../train/overrides.js';
import { runTraining, type TrainRunResult } from '../train/run.js';
import { loadModel } from '../synthesis/model.js';
import { synthesizeToFiles, type SynthesizedFile } from '../synthesis/batch.js';

export const QUICKSTART_SENTENCE = 'The quick brown fox jumps over the lazy dog.';

export interface QuickstartOptions {
  corpus: string;
  recipePath: string;
  out: string;
  /** Training time budget of this call, in minutes. */
  minutes: number;
  /** Total step count to stop at (default: the recipe's). */
  steps?: number;
  text?: string;
  /** A shipped voice (weights-only checkpoint) that also speaks the sentence, for comparison. */
  pretrained?: string;
  overrides?: Override[];
  backend?: BackendChoice | null;
  progress?: boolean;
  log?: (msg: string) => void;
}

export interface QuickstartResult {
  train: TrainRunResult;
  wav: string;
  png: string;
  audio: SynthesizedFile;
  /** The same sentence from the pretrained voice, when one is installed. */
  pretrained: (SynthesizedFile & { voice: string; step: number }) | null;
}

export async function runQuickstart(o: QuickstartOptions): Promise<QuickstartResult> {
  const train = await runTraining({
    recipePath: o.recipePath,
    overrides: o.overrides,
    dataPath: o.corpus,
    outDir: o.out,
    steps: o.steps,
    resume: true,
    maxSeconds: o.minutes * 60,
    backend: o.backend,
    argv: process.argv.slice(1),
    progress: o.progress,
    log: o.log,
  });
  if (train.stoppedBy === 'signal') throw new UserError(`interrupted at step ${train.step}; run quickstart again to continue`, 130);
  const wav = join(o.out, 'quickstart.wav');
  const png = join(o.out, 'quickstart.png');
  const text = o.text ?? QUICKSTART_SENTENCE;
  const [audio] = await synthesizeToFiles({ checkpoint: train.checkpoint, texts: [text], out: wav, png });
  let pretrained: QuickstartResult['pretrained'] = null;
  if (o.pretrained && existsSync(join(o.pretrained, 'state.json'))) {
    const lm = loadModel(o.pretrained);
    try {
      const [p] = await synthesizeToFiles({
        checkpoint: o.pretrained,
        loaded: lm,
        texts: [text],
        out: join(o.out, 'quickstart-pretrained.wav'),
        png: join(o.out, 'quickstart-pretrained.png'),
      });
      pretrained = { ...p!, voice: o.pretrained, step: lm.checkpoint.meta.step };
    } finally {
      lm.model.dispose();
    }
  }
  return { train, wav, png, audio: audio!, pretrained };
}

/** What the quickstart prints when it is done. */
export function quickstartSummary(r: QuickstartResult, out: string): string {
  return [
    '',
    `difftts quickstart: done — ${r.train.step} of ${r.train.totalSteps} training steps so far.`,
    `  audio:        ${r.wav} (${r.audio.seconds.toFixed(2)} s, Griffin-Lim vocoder)`,
    `  spectrogram:  ${r.png}`,
    `  samples:      ${join(out, 'samples')}/step-*.png (the target recording and the model's output, labelled panels)`,
    `  metrics:      ${join(out, 'metrics.jsonl')}`,
    `  checkpoints:  ${join(out, 'checkpoints')}`,
    ...(r.pretrained
      ? [
          `  pretrained:   ${r.pretrained.wav} — the same sentence from ${r.pretrained.voice}`,
          `                (${r.pretrained.step} steps on the full Allison corpus; ${join(r.pretrained.voice, 'README.md')} says how long and how well it is understood)`,
        ]
      : []),
    '',
    'What to expect: a few minutes of CPU training gives a blurry but speech-shaped spectrogram and',
    'buzzy, mostly unintelligible audio; the pretrained voice shows what hours of training give.',
    'Run this again to train further (it resumes where it stopped), fine-tune the pretrained voice on',
    'your own corpus (difftts train --init pretrained/allison-enc128 with recipes/allison-enc128.json …), or use a GPU.',
    `More: difftts synthesize --checkpoint ${out} --text "Your sentence." --out out.wav`,
    '',
  ].join('\n');
}
