// kubectl's words before oclif sees them: -h is --help, `help COMMAND` is `COMMAND --help`, a mistyped command
// gets a did-you-mean, and the word the user typed (get, not mode) is kept for the error messages' help hint.
import { editDistance } from '../core/suggest.js';

/** Every word that starts a command: ids and aliases, and oclif's own. */
export interface CommandWords {
  ids: string[];
  aliases: Record<string, string>;
}

let typed = '';

/** The command word the user typed (an alias stays an alias), for "see 'kubectl proxymode get --help'". */
export function typedCommand(): string {
  return typed;
}

export type Prepared = { argv: string[] } | { error: string };

export function prepareArgv(argv: string[], words: CommandWords): Prepared {
  const end = argv.indexOf('--');
  const head = end === -1 ? argv : argv.slice(0, end);
  const tail = end === -1 ? [] : argv.slice(end);
  let args = head.map((a) => (a === '-h' ? '--help' : a));
  if (args[0] === 'help') {
    const rest = args.slice(1).filter((a) => a !== '--help');
    args = rest.length ? [...rest, '--help'] : ['--help'];
  }
  const first = args[0];
  if (first !== undefined && !first.startsWith('-')) {
    const known = [...words.ids, ...Object.keys(words.aliases)];
    if (!known.includes(first)) {
      const close = known.filter((w) => !w.startsWith('__') && (editDistance(first, w) <= 2 || w.startsWith(first))).sort((a, b) => editDistance(first, a) - editDistance(first, b)).slice(0, 3);
      return { error: `unknown command "${first}" for "kubectl proxymode"${close.length ? ` (did you mean ${close.join(' or ')}?)` : ''}; see 'kubectl proxymode --help'.` };
    }
    typed = first;
  }
  return { argv: [...args, ...tail] };
}
