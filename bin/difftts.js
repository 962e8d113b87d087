#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm install` (the prepare script).
import('../dist/src/cli/main.js').then(
  (cli) => cli.run(),
  (err) => {
    if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli/main.js')) {
      console.error('difftts: the CLI is not built yet; run `npm run build` in the package directory');
      process.exit(2);
    }
    throw err;
  },
);
