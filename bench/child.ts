// Runs one case in this process and prints its result as JSON, so each case's peak RSS is its own.
import { CASES } from './cases/index.js';

const c = CASES[process.argv[2]];
if (!c) throw new Error(`unknown bench case ${process.argv[2]}`);
process.stdout.write(JSON.stringify(await c.run()) + '\n');
