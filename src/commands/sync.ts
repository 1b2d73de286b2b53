import { Flags } from '@oclif/core';
import { ProxymodeCommand } from './base.js';
import { proxyConfigFlags, sourceFlags } from './flags.js';
import { checkMode, notBuilt } from './not-built.js';

export default class Sync extends ProxymodeCommand {
  static override summary = 'Run the proxier engine: program this host, a node through a debug pod, or show what it would do.';
  static override flags = {
    ...sourceFlags,
    ...proxyConfigFlags,
    'dry-run': Flags.boolean({ description: 'Print what would change, change nothing.' }),
    'on-node': Flags.string({ description: 'Run on this node in a privileged debug pod.' }),
  };
  static override examples = ['<%= config.bin %> sync -f examples/ --mode iptables --dry-run'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Sync);
    checkMode(flags.mode);
    notBuilt('`kubectl proxymode sync` (the proxier loop)');
  }
}
