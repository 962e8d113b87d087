// Command-line flags of the dev scripts (`--name value`): one place for reading them and for the
// one-line errors a script exits with.

/**
 * `name` prefixes every error line. `arg(name, dflt)` is the word after `--name` (or `dflt`);
 * `num(name, dflt)` the same as a finite number (undefined when absent without a default; anything
 * else exits 2 naming the flag); `fail(msg, code)` prints `name: msg` and exits.
 */
export function scriptArgs(name, argv = process.argv.slice(2)) {
  const fail = (msg, code = 2) => {
    console.error(`${name}: ${msg}`);
    process.exit(code);
  };
  const arg = (flag, dflt) => {
    const i = argv.indexOf(`--${flag}`);
    return i >= 0 ? argv[i + 1] : dflt;
  };
  const num = (flag, dflt) => {
    const raw = arg(flag);
    if (raw === undefined) return dflt === undefined ? undefined : Number(dflt);
    const v = Number(raw);
    if (!Number.isFinite(v)) fail(`--${flag}: expected a number, got ${JSON.stringify(raw)}`);
    return v;
  };
  return { argv, arg, num, fail };
}
