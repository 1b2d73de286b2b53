import { Args, Flags } from '@oclif/core';
import { InputError } from '../core/errors.js';
import { ProxymodeCommand } from './base.js';
import { outputFlag, proxyConfigFlags, sourceFlags } from './flags.js';
import { checkMode, notBuilt } from './not-built.js';

const TARGET = /^(svc\/[a-z0-9][-a-z0-9.]*|[a-z0-9][-a-z0-9]*\/[a-z0-9][-a-z0-9.]*|\[?[0-9a-fA-F:.]+\]?:\d+)$/;

export default class Trace extends ProxymodeCommand {
  static override summary = 'Follow one packet to a Service, hop by hop, to the pods it may reach.';
  static override args = { target: Args.string({ required: true, ignoreStdin: true, description: 'svc/NAME, NAMESPACE/NAME or IP:PORT.' }) };
  static override flags = {
    ...sourceFlags,
    ...proxyConfigFlags,
    output: outputFlag(),
    port: Flags.string({ description: 'Service port name or number (needed when the Service has several).' }),
    protocol: Flags.string({ options: ['TCP', 'UDP', 'SCTP'], default: 'TCP', description: 'Protocol of the packet.' }),
    from: Flags.string({ description: 'Where the packet comes from: IP, pod/NAME, node/NAME or external.' }),
    actual: Flags.boolean({ description: 'Trace through the node\'s live rules.' }),
    rules: Flags.string({ description: 'Trace through a saved iptables-save, nft list ruleset or ipvsadm -Sn dump.' }),
  };
  static override examples = ['<%= config.bin %> trace svc/web -n shop -f examples/', '<%= config.bin %> trace 10.96.0.10:53 --protocol UDP --from pod/web-1'];

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Trace);
    if (!TARGET.test(args.target)) {
      throw new InputError(`target "${args.target}" is not svc/NAME, NAMESPACE/NAME or IP:PORT; name the Service or its address.`);
    }
    checkMode(flags.mode);
    notBuilt('`kubectl proxymode trace` (the packet tracer)');
  }
}
