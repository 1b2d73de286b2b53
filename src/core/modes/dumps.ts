// Cutting saved or pasted dump text into sections by kind. Operators paste what they ran, in any order
// and concatenated (`ipvsadm -Ln; ipset list; iptables-save; ip6tables-save`): each kind knows the line
// its section starts with, and a section runs until a line that starts another kind's section. Text before
// the first section (a shell prompt, a note) belongs to none and is left out.
import { InputError } from '../errors.js';
import type { Dump, DumpKind, DumpSection } from './types.js';

export function splitDump(text: string, source: string, kinds: readonly DumpKind[]): Dump {
  const lines = text.split('\n');
  const sections: DumpSection[] = [];
  let open: { kind: DumpKind; start: number; lines: string[] } | undefined;
  const close = () => {
    if (!open) return;
    const body = open.lines.join('\n');
    const family = open.kind.familyOf?.(body);
    sections.push({ kind: open.kind.name, text: body.endsWith('\n') ? body : `${body}\n`, line: open.start, ...(family ? { family } : {}) });
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    let starts: DumpKind | undefined;
    for (const k of kinds) {
      const s = k.startsSection(line, lines[i + 1]);
      if (s === 'header' || (s && k !== open?.kind)) {
        starts = k;
        break;
      }
    }
    if (starts) {
      close();
      open = { kind: starts, start: i + 1, lines: [] };
    }
    open?.lines.push(line);
  }
  close();
  return { source, sections };
}

/** The sections of these kinds, joined: what a parser of one tool's output reads. */
export function sectionText(dump: Dump, kind: string): string {
  return dump.sections
    .filter((s) => s.kind === kind)
    .map((s) => s.text)
    .join('');
}

export function hasSection(dump: Dump, kinds: readonly DumpKind[]): boolean {
  return dump.sections.some((s) => kinds.some((k) => k.name === s.kind));
}

/** One sentence for a file that holds no dump we know, naming the commands that make one. */
export function unknownDumpError(source: string, kinds: readonly DumpKind[], empty: boolean): InputError {
  const made = [...new Set(kinds.map((k) => k.command))].join(', ');
  return new InputError(`${source} ${empty ? 'is empty' : 'holds no rules dump this tool reads'}; save the node's rules with one of: ${made}.`);
}
