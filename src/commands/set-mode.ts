import { Args, Flags } from '@oclif/core';
import { ProxymodeCommand } from './base.js';
import { sourceFlags } from './flags.js';
import { checkMode, notBuilt } from './not-built.js';

export default class SetMode extends ProxymodeCommand {
  static override summary = 'Switch the cluster\'s kube-proxy mode safely, and prove it worked.';
  static override aliases = ['set'];
  static override args = { mode: Args.string({ required: true, ignoreStdin: true, description: 'iptables, ipvs, nftables or userspace.' }) };
  static override flags = {
    ...sourceFlags,
    scheduler: Flags.string({ description: 'IPVS scheduler (rr, lc, dh, sh, sed, nq …) when switching to ipvs.' }),
    'dry-run': Flags.boolean({ description: 'Show the changes without making them.' }),
  };
  static override examples = ['<%= config.bin %> set ipvs --scheduler rr --dry-run'];

  async run(): Promise<void> {
    const { args } = await this.parse(SetMode);
    checkMode(args.mode, 'MODE');
    notBuilt('`kubectl proxymode set-mode`');
  }
}
