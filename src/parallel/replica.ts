/**
 * How a worker builds its copy of a training model: `module` (a file URL) exports
 * `replica(args)`, which returns the same Trainable the main thread trains (weights in the same
 * order; their values are overwritten from the main thread before every step).
 */
import type { Trainable } from '../trainable/trainable.js';

export interface ReplicaSpec {
  /** File URL of a module exporting `replica(args): Promise<Replica<B>>`. */
  module: string;
  /** Structured-cloneable arguments (model config, symbol count, loss config, seed). */
  args: unknown;
}

export interface Replica<B> {
  trainable: Trainable<B>;
  dispose(): void;
}

/** What a module named by a ReplicaSpec exports. */
export interface ReplicaModule {
  replica(args: unknown): Promise<Replica<unknown>>;
}

/** [name, element count] of each weight, in iteration order: main thread and replicas must agree. */
export function weightLayout(variables: Map<string, { size: number }>): [string, number][] {
  return [...variables].map(([k, v]) => [k, v.size]);
}
