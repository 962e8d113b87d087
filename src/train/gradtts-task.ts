/** Placeholder until src/model (GradTTS) and src/data (openDataset) land. */
import { UserError } from '../errors.js';
import type { Task, TaskInputs } from './task.js';

export async function gradTTSTask(_inp: TaskInputs): Promise<Task<unknown>> {
  throw new UserError('the GradTTS model is not built into this checkout yet');
}
