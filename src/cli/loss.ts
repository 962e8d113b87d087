import type { Command } from 'commander';

/** Registers the 'loss' commands (being built). */
export function register(_program: Command): void {}
