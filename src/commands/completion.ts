// Shell completion as kubectl plugins offer it: `completion bash|zsh|fish` prints a script for
// kubectl-proxymode itself, and `completion kubectl` prints the kubectl_complete-proxymode helper that
// kubectl (1.26+) runs to complete `kubectl proxymode …`. Both ask the hidden `__complete` command, which
// answers in Cobra's format (one candidate a line, then :DIRECTIVE), as kubectl's plugin completion expects.
import { Args, Command } from '@oclif/core';
import { registeredModes } from '../core/modes/registry.js';
import { writeOut } from '../ui/print.js';
import { ProxymodeCommand } from './base.js';

const SHELLS = ['bash', 'zsh', 'fish', 'kubectl'] as const;

/** Cobra's directives: 0 lets the shell complete file names, 4 says there are no files to complete. */
const FILES = 0;
const NO_FILES = 4;

const FILE_FLAGS = new Set(['filename', 'kubeconfig', 'config', 'rules', 'output-dir']);

export default class Completion extends ProxymodeCommand {
  static override summary = 'Print a shell completion script: bash, zsh, fish, or kubectl (the kubectl_complete-proxymode helper).';
  static override description =
    'Load it in the shell (e.g. `source <(kubectl proxymode completion bash)`) to complete `kubectl-proxymode`. To complete `kubectl proxymode …` too, save the kubectl helper on PATH: `kubectl proxymode completion kubectl > ~/.local/bin/kubectl_complete-proxymode && chmod +x ~/.local/bin/kubectl_complete-proxymode` (kubectl 1.26 or newer runs it).';
  static override args = { shell: Args.string({ required: true, options: [...SHELLS], description: 'bash, zsh, fish or kubectl.' }) };
  static override examples = ['source <(<%= config.bin %> completion bash)', '<%= config.bin %> completion zsh > "${fpath[1]}/_kubectl-proxymode"', '<%= config.bin %> completion fish | source'];

  async run(): Promise<void> {
    const { args } = await this.parse(Completion);
    writeOut(SCRIPTS[args.shell as (typeof SHELLS)[number]]);
  }
}

const SCRIPTS: Record<(typeof SHELLS)[number], string> = {
  bash: `# bash completion for kubectl-proxymode
_kubectl_proxymode() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" out directive
  out=$(kubectl-proxymode __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
  directive=\${out##*:}
  out=\${out%:*}
  if [ "$directive" = "${FILES}" ] && [ -z "\${out//[[:space:]]/}" ]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$out" -- "$cur"))
  fi
}
complete -o default -F _kubectl_proxymode kubectl-proxymode`,
  zsh: `#compdef kubectl-proxymode
_kubectl_proxymode() {
  local -a out
  local directive
  out=("\${(@f)$(kubectl-proxymode __complete "\${(@)words[2,$CURRENT]}" 2>/dev/null)}")
  directive=\${out[-1]#:}
  out=("\${(@)out[1,-2]}")
  if [[ $directive == ${FILES} && \${#out} -eq 0 ]]; then _files; return; fi
  compadd -a out
}
compdef _kubectl_proxymode kubectl-proxymode`,
  fish: `# fish completion for kubectl-proxymode
function __kubectl_proxymode_complete
  set -l args (commandline -opc)[2..-1] (commandline -ct)
  kubectl-proxymode __complete $args 2>/dev/null | string match -v -r '^:'
end
complete -c kubectl-proxymode -f -a '(__kubectl_proxymode_complete)'`,
  kubectl: `#!/usr/bin/env sh
# kubectl runs this (as kubectl_complete-proxymode on PATH) to complete \`kubectl proxymode …\`.
exec kubectl-proxymode __complete "$@"`,
};

type FlagDef = { char?: string; options?: readonly string[]; type?: string; hidden?: boolean };
type CommandClass = { flags?: Record<string, FlagDef>; baseFlags?: Record<string, FlagDef>; aliases?: string[]; hidden?: boolean };

/** The candidates for the last word of `words` (the word being typed, maybe empty), and Cobra's directive. */
export function complete(words: string[], commands: Record<string, CommandClass>): { candidates: string[]; directive: number } {
  const cur = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  if (before.length === 0) {
    const all = Object.entries(commands).filter(([id, c]) => !c.hidden && !id.startsWith('__')).flatMap(([id, c]) => [id, ...(c.aliases ?? [])]);
    return { candidates: [...all, 'help'].filter((w) => w.startsWith(cur)).sort(), directive: NO_FILES };
  }
  const word = before[0]!;
  const cmd = commands[word] ?? Object.values(commands).find((c) => c.aliases?.includes(word));
  if (word === 'help') return complete([cur], commands);
  if (!cmd) return { candidates: [], directive: NO_FILES };
  const flags: Record<string, FlagDef> = { ...cmd.baseFlags, ...cmd.flags };
  const prev = before.at(-1)!;
  const prevFlag = prev.startsWith('--') ? flags[prev.slice(2)] && prev.slice(2) : prev.startsWith('-') && prev.length === 2 ? Object.keys(flags).find((k) => flags[k]!.char === prev[1]) : undefined;
  if (prevFlag && flags[prevFlag]!.type === 'option') {
    if (FILE_FLAGS.has(prevFlag)) return { candidates: [], directive: FILES };
    const values = prevFlag === 'mode' ? registeredModes().map((m) => m.mode) : prevFlag === 'ip-family' ? ['IPv4', 'IPv6'] : (flags[prevFlag]!.options ?? []);
    return { candidates: values.filter((o) => o.startsWith(cur)), directive: NO_FILES };
  }
  if (cur.startsWith('-')) {
    const names = Object.entries(flags).filter(([, f]) => !f.hidden).map(([n]) => `--${n}`);
    return { candidates: names.filter((n) => n.startsWith(cur)).sort(), directive: NO_FILES };
  }
  return { candidates: [], directive: NO_FILES };
}

export class Complete extends Command {
  static override hidden = true;
  static override strict = false;
  static override summary = 'Completion candidates in Cobra\'s format (for the completion scripts).';

  async run(): Promise<void> {
    // The commands as oclif loaded them (flags with base flags merged), so this file needs no command list.
    const commands: Record<string, CommandClass> = {};
    // oclif also lists each alias as a command of its own (its id among its aliases): keep the real ones.
    for (const c of this.config.commands) if (!c.aliases.includes(c.id)) commands[c.id] = { flags: c.flags as Record<string, FlagDef>, aliases: c.aliases, hidden: c.hidden };
    const words = this.argv.length ? this.argv : [''];
    const { candidates, directive } = complete(words, commands);
    writeOut([...candidates, `:${directive}`].join('\n'));
  }
}

