// Colour is for a person at a terminal: `script` gives the executable a real pseudo-terminal.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { BIN, cleanEnv, ROOT } from './run.js';

const hasScript = spawnSync('script', ['--version']).status === 0;

function onTTY(args: string, env: NodeJS.ProcessEnv = cleanEnv()): string {
  const r = spawnSync('script', ['-qec', `${BIN} ${args}`, '/dev/null'], { cwd: ROOT, env: { ...env, TERM: 'xterm' }, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('colour on a terminal', { skip: hasScript ? false : 'util-linux script is not installed' }, () => {
  it('colours notes on a TTY', () => {
    assert.match(onTTY('get -f examples/'), /\x1b\[2mNote: /);
  });

  it('never with NO_COLOR', () => {
    assert.doesNotMatch(onTTY('get -f examples/', cleanEnv({ NO_COLOR: '1' })), /\x1b\[/);
  });

  it('never with --no-color', () => {
    assert.doesNotMatch(onTTY('get -f examples/ --no-color'), /\x1b\[/);
  });

  it('machine output stays plain even on a TTY', () => {
    const out = onTTY('get -f examples/ -o json');
    assert.doesNotMatch(out, /\x1b\[/);
    assert.equal(JSON.parse(out.replace(/\r\n/g, '\n')).configuration.mode, 'ipvs');
  });
});
