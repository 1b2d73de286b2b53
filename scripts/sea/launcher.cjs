#!/usr/bin/env node
'use strict';
// kubectl-proxymode for macOS: the CommonJS bundle beside this file, run by the Node.js on PATH (22 or newer,
// as the krew caveats say). macOS refuses a Node single executable whose signature the injected bundle breaks,
// so these archives ship the bundle and this launcher instead.
const path = require('node:path');
const fs = require('node:fs');

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(`error: kubectl proxymode needs Node.js 22 or newer on PATH, and this is ${process.version}; install a newer Node.js (e.g. brew install node).\n`);
  process.exit(2);
}
process.env.OCLIF_DISABLE_ENGINE_WARNING = process.env.OCLIF_DISABLE_ENGINE_WARNING || '1';
// Node 22 warns (DEP0040) when code outside node_modules loads punycode, as the bundled tr46 (under node-fetch)
// does; a user can do nothing about it, so that one warning is not shown.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const code = rest[0] !== null && typeof rest[0] === 'object' ? rest[0].code : rest[1];
  if (code !== 'DEP0040') return emitWarning.call(this, warning, ...rest);
};
const dir = path.dirname(fs.realpathSync(__filename));
require(path.join(dir, 'kubectl-proxymode.cjs'))
  .run(process.argv.slice(2), dir)
  .catch((err) => {
    process.stderr.write(`error: ${String((err && err.message) || err).split('\n')[0]}\n`);
    process.exitCode = 2;
  });
