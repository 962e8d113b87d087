import type { Command } from 'commander';

/** Registers the 'data' commands (being built). */
export function register(_program: Command): void {}
