import { VERSION } from '../version.js';
import { formatData, writeOut } from '../ui/print.js';
import { ProxymodeCommand } from './base.js';
import { outputFlag } from './flags.js';

export default class Version extends ProxymodeCommand {
  static override summary = 'Print the version of kubectl proxymode.';
  static override flags = { output: outputFlag() };

  async run(): Promise<void> {
    const { flags } = await this.parse(Version);
    const info = { version: VERSION, node: process.version, platform: `${process.platform}/${process.arch}` };
    if (flags.output === 'json' || flags.output === 'yaml') writeOut(formatData(flags.output, info));
    else writeOut(`kubectl-proxymode v${info.version} (node ${info.node}, ${info.platform})`);
  }
}
