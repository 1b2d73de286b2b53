'use strict';
// The main script of the kubectl-proxymode single executable (Node SEA). scripts/package.mjs puts the
// whole CommonJS bundle (dist/kubectl-proxymode.cjs) in place of the BUNDLE marker below, wrapped as
// `(function (exports, require, module, __filename, __dirname) { … })`, so one script, and with it
// the SEA code cache, covers everything: nothing is read from disk at run time.
//
// A SEA's own `require` loads only built-in modules, yet the bundle needs two more answers:
//  - oclif's explicit command strategy loads `<root>/kubectl-proxymode.cjs` (the bundle itself) to find
//    COMMANDS: that path, which does not exist beside the executable, answers with this module's exports;
//  - optional-dependency probes (bufferutil, encoding, picomatch, ts-node, a package.json, …) must fail
//    the way they do in a plain install, with MODULE_NOT_FOUND, which their callers catch.
// Every other id is a built-in or a MODULE_NOT_FOUND: the executable never loads code from disk.
(function seaMain(builtinRequire, factory) {
  const path = builtinRequire('node:path');
  const Module = builtinRequire('node:module');

  // The folder oclif treats as the plugin root: the executable's own folder (krew's store, or PATH).
  const root = path.dirname(process.execPath);
  const bundleFile = path.join(root, 'kubectl-proxymode.cjs');
  const fold = process.platform === 'win32' || process.platform === 'darwin' ? (p) => p.toLowerCase() : (p) => p;

  const bundle = new Module(bundleFile, null);
  bundle.filename = bundleFile;
  bundle.paths = [];

  function notFound(id) {
    const err = new Error(`Cannot find module '${id}': the kubectl-proxymode executable holds no other modules`);
    err.code = 'MODULE_NOT_FOUND';
    return err;
  }
  function isBundle(id) {
    if (typeof id !== 'string' || !(path.isAbsolute(id) || id.startsWith('./') || id.startsWith('../'))) return false;
    return fold(path.resolve(root, id)) === fold(bundleFile);
  }

  // Node 22 warns (DEP0040) when code outside node_modules loads punycode. Its one user here is the
  // bundled tr46 (under node-fetch), which a plain install keeps in node_modules, where Node is silent.
  function builtin(id) {
    if (id !== 'punycode' && id !== 'node:punycode') return builtinRequire(id);
    const emitWarning = process.emitWarning;
    process.emitWarning = function (warning, ...rest) {
      const code = rest[0] !== null && typeof rest[0] === 'object' ? rest[0].code : rest[1];
      if (code !== 'DEP0040') return emitWarning.call(this, warning, ...rest);
    };
    try {
      return builtinRequire(id);
    } finally {
      process.emitWarning = emitWarning;
    }
  }

  function bundleRequire(id) {
    if (Module.isBuiltin(id)) return builtin(id);
    if (isBundle(id)) return bundle.exports;
    throw notFound(id);
  }
  bundleRequire.resolve = function resolve(id) {
    if (Module.isBuiltin(id)) return id;
    if (isBundle(id)) return bundleFile;
    throw notFound(id);
  };
  bundleRequire.resolve.paths = () => null;
  bundleRequire.main = bundle;
  bundleRequire.cache = Object.create(null);
  bundleRequire.cache[bundleFile] = bundle;
  bundle.require = bundleRequire;

  factory.call(bundle.exports, bundle.exports, bundleRequire, bundle, bundleFile, root);
  bundle.loaded = true;

  // Same as bin/kubectl-proxymode: argv past the executable (a SEA's argv[1] repeats the executable).
  return bundle.exports.run(process.argv.slice(2), root);
})(require, /* BUNDLE */ null);
