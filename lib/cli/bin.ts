#!/usr/bin/env node
/**
 * The `rxssh` executable. It only runs the CLI: there is no "am I the entry point?" check,
 * which would fail when the bin is launched through npm's `.bin` symlink, `npx` or a global
 * install (`process.argv[1]` is then the link, not this file).
 */
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`rxssh: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
