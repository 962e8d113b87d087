import type { Command } from 'commander';

/** Registers the 'train' commands (being built). */
export function register(_program: Command): void {}
