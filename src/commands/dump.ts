import { Args, Flags } from '@oclif/core';
import { InputError } from '../core/errors.js';
import { writeTarGz } from '../kube/dump-archive.js';
import { checkDumpFolder, takeDump } from '../kube/dump.js';
import { ApiSource } from '../kube/source.js';
import { ProxymodeCommand } from './base.js';
import { sourceFlags } from './flags.js';

export default class Dump extends ProxymodeCommand {
  static override summary = 'Save a support bundle: everything the offline commands need, to read back with -f.';
  static override description =
    'Saves into a new folder (and with --archive a .tar.gz of it) the cluster\'s Services, EndpointSlices and Nodes, kube-proxy\'s ConfigMap, the kube-system DaemonSets, the kube-proxy pods and their logs (kube-proxy-logs/), and each node\'s live rules for its mode (node-rules/NODE.rules, read by exec in its kube-proxy pod; "create" on "pods/exec"), with a README saying how it was taken. Secrets are never read. get, rules and trace then work on it with -f FOLDER, and --rules FOLDER/node-rules/NODE.rules for a node\'s rules.';
  static override strict = false;
  static override args = { node: Args.string({ ignoreStdin: true, description: 'Only these nodes\' live rules (default: every node).' }) };
  static override flags = {
    kubeconfig: sourceFlags.kubeconfig,
    context: sourceFlags.context,
    'request-timeout': sourceFlags['request-timeout'],
    'output-dir': Flags.string({ char: 'O', description: 'The folder to write; it must not exist or be empty (default: proxymode-dump-<UTC time>).' }),
    archive: Flags.boolean({ description: 'Also write FOLDER.tar.gz beside the folder.' }),
    exec: Flags.boolean({ default: true, allowNo: true, description: 'Read each node\'s live rules by exec in its kube-proxy pod (--no-exec: objects and logs only).' }),
  };
  static override examples = [
    '<%= config.bin %> dump --output-dir ./bundle',
    '<%= config.bin %> dump --archive',
    '<%= config.bin %> dump worker-1 worker-2 --output-dir ./bundle   # only these nodes\' rules',
  ];

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Dump);
    const folder = flags['output-dir'] ?? `proxymode-dump-${new Date().toISOString().replace(/[:.]/g, '').replace(/\d{3}Z$/, 'Z')}`;
    if (/^-/.test(folder)) throw new InputError(`--output-dir "${folder}" looks like a flag; give a folder name.`);
    checkDumpFolder(folder);
    const source = new ApiSource({ kubeconfig: flags.kubeconfig, context: flags.context, requestTimeout: flags['request-timeout'] });
    const say = (line: string) => process.stderr.write(`${line}\n`);
    const result = await takeDump(source, { folder, exec: flags.exec, nodes: argv as string[], say });
    let where = folder;
    if (flags.archive) {
      where = `${folder.replace(/\/+$/, '')}.tar.gz`;
      writeTarGz(folder, where);
    }
    say(`dump: saved ${result.files.length + 1} files (mode ${result.mode}) to ${where}${result.notes.length ? `; ${result.notes.length} parts could not be saved (see its README.md)` : ''}.`);
    process.stdout.write(`${where}\n`);
  }
}
