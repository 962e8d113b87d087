import type { Command } from 'commander';

/** Registers the 'evaluate' commands (being built). */
export function register(_program: Command): void {}
