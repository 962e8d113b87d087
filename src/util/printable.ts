/** Text from a user, safe to print inside a one-line message. */

/**
 * Control characters as escapes (ESC → \x1b, BEL → \x07, NUL → \x00 …; the bidirectional
 * overrides as \u202e …) so text in a message can neither drive the terminal nor reorder the line.
 */
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function printable(s: string): string {
  return s
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => NAMED[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/[\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
