// kubectl-style tables: upper-case headers, no borders, columns three spaces apart, no trailing blanks.
import Table from 'cli-table3';

const NO_BORDER = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '',
  middle: '   ',
};

export function renderTable(headers: string[], rows: string[][]): string {
  // style.head/border must be empty: cli-table3 colours them even when piped.
  const table = new Table({
    head: headers.map((h) => h.toUpperCase()),
    chars: NO_BORDER,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
  });
  for (const row of rows) table.push(row);
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}
