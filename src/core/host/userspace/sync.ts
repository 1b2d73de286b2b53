// One sync of the userspace mode for one family, as `sync --mode userspace` runs it: the view's service
// ports go to the proxier, which opens or keeps their sockets; the portal rules are then rendered with the
// ports it really holds. Apply the result with portalRestoreText (iptables-restore --noflush) and, once,
// portalJumpRules (core/userspace).
import type { KubeProxyConfiguration } from '../../config/index.js';
import type { FamilyView } from '../../proxy-view.js';
import { renderUserspaceFamily, type UserspaceState } from '../../userspace/index.js';
import type { UserspaceProxier } from './proxier.js';

export async function syncUserspaceFamily(proxier: UserspaceProxier, family: FamilyView, config: KubeProxyConfiguration): Promise<UserspaceState> {
  const ports = await proxier.sync(renderUserspaceFamily(family, config).proxies);
  return renderUserspaceFamily(family, config, ports);
}
