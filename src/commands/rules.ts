import { Args, Flags } from '@oclif/core';
import { ProxymodeCommand } from './base.js';
import { outputFlag, proxyConfigFlags, sourceFlags } from './flags.js';
import { checkMode, notBuilt } from './not-built.js';

export default class Rules extends ProxymodeCommand {
  static override summary = 'Show the rules a node should have for a proxy mode, the rules it has, and the difference.';
  static override args = { service: Args.string({ ignoreStdin: true, description: 'Only this Service (NAME or NAMESPACE/NAME).' }) };
  static override flags = {
    ...sourceFlags,
    ...proxyConfigFlags,
    output: outputFlag(['restore', 'nft', 'ipvsadm']),
    actual: Flags.boolean({ description: 'Read the node\'s live rules instead of rendering them.' }),
    diff: Flags.boolean({ description: 'Compare rendered and live rules; exit 1 on drift.' }),
  };
  static override examples = ['<%= config.bin %> rules -f examples/ --mode iptables', '<%= config.bin %> rules shop/web --node worker-1 -o restore'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Rules);
    checkMode(flags.mode);
    notBuilt('`kubectl proxymode rules` (the rule engines)');
  }
}
