import type { Command } from 'commander';

/** Registers the 'audio' commands (being built). */
export function register(_program: Command): void {}
