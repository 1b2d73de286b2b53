// -f files re-read when they change: fs.watch on every path given (a file, or a folder and what is in it),
// debounced so an editor's burst of writes is one re-read. A re-read that fails is said and the previous
// objects stay in force.
import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface FileWatch {
  close(): void;
}

export function watchFiles(paths: readonly string[], debounceMs: number, onChange: () => void, log: (m: string) => void): FileWatch {
  const watchers: FSWatcher[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const kick = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      onChange();
    }, debounceMs);
  };
  for (const p of paths) {
    if (p === '-') continue;
    try {
      // a file is watched through its folder, so a file replaced by rename (as editors save) is still seen
      const dir = statSync(p).isDirectory();
      const name = basename(p);
      const w = dir ? watch(p, { persistent: true }, kick) : watch(dirname(p), { persistent: true }, (_event, file) => (file === null || file === name ? kick() : undefined));
      w.on('error', (e) => log(`stopped watching ${p}: ${e.message}`));
      watchers.push(w);
    } catch (e) {
      log(`cannot watch ${p} for changes: ${(e as Error).message}; changes to it are not picked up.`);
    }
  }
  return {
    close() {
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
