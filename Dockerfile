# kubectl-proxymode as a node's proxier: `sync` in a privileged, hostNetwork pod (see `sync --help`).
# Build after `npm run build`: docker build -t kubectl-proxymode .
# The bundle (dist/) holds every dependency, so the image needs Node and the netfilter tools only.
# Debian 13 (trixie) on purpose, for its nft 1.1.3 (iptables 1.8.11, ipset, ipvsadm, conntrack, nfacct are
# there too). Debian 12's nft 1.0.6 (node:22-slim is bookworm) segfaults on any set a newer nft wrote, in any
# table (kubernetes#136786; reproduced here), which is why kube-proxy's own image moved to nft 1.0.6.1; and
# it dumps every chain and set of kube-proxy's table before a rule, so a one-endpoint partial sync costs
# it ~1.5x the nft CPU of 1.1.3 at 10,000 services. The price is kube-proxy's too: sets written by 1.1.3,
# as by 1.0.6.1, crash an nft 1.0.6 or older on the host (checked with 1.0.2 and 1.0.6).
FROM node:22-trixie-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables nftables ipset ipvsadm conntrack iproute2 nfacct \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/kubectl-proxymode
COPY package.json ./
COPY bin/ ./bin/
COPY dist/ ./dist/
ENTRYPOINT ["/opt/kubectl-proxymode/bin/kubectl-proxymode"]
CMD ["sync", "--help"]
