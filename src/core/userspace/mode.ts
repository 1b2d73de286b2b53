// The userspace mode's faces (see core/modes/types.ts): Kubernetes 1.0-1.25's proxy in kube-proxy's own
// process, reached through portal rules in iptables. Rendered from a node's view; read back from an
// iptables-save dump whose nat table declares KUBE-PORTALS-* (a dump kind of its own, so the registry
// picks this mode for it before iptables).
import { IPTABLES_SAVE } from '../iptables/mode.js';
import type { ProxyModeDefinition } from '../modes/types.js';
import { parseUserspace, USERSPACE_IPTABLES_SAVE } from './parse.js';
import { renderUserspace } from './render.js';
import { narrowUserspace, summarizeUserspace, userspaceCanonicalLines, userspaceDrift } from './summary.js';
import { jumpCommandsText, planUserspace, portalRestoreText, proxyTableText } from './text.js';
import { userspaceEvaluator } from './trace.js';
import type { UserspaceState } from './types.js';
import { userspaceWhy } from './why.js';

export const userspaceMode: ProxyModeDefinition<UserspaceState> = {
  mode: 'userspace',
  formats: {
    restore: { description: 'iptables-restore input for the portal chains (apply with --noflush; proxy ports are stand-ins)', write: portalRestoreText },
    proxy: { description: 'which proxy port serves which service port, its portals and round-robin endpoints', write: proxyTableText },
    jumps: { description: 'the iptables commands that jump from PREROUTING, OUTPUT and INPUT into the portal chains', write: jumpCommandsText },
  },
  dumps: { primary: [USERSPACE_IPTABLES_SAVE], also: [IPTABLES_SAVE] },
  render: renderUserspace,
  parse: parseUserspace,
  liveCommands: (family) => [{ kind: IPTABLES_SAVE.name, argv: [family === 'IPv4' ? 'iptables-save' : 'ip6tables-save'], family }],
  narrow: narrowUserspace,
  summarize: summarizeUserspace,
  drift: userspaceDrift,
  canonicalLines: userspaceCanonicalLines,
  tracer: (states) => userspaceEvaluator(states),
  plan: planUserspace,
  why: userspaceWhy,
};
