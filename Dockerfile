# kubectl-proxymode as a node's proxier: `sync` in a privileged, hostNetwork pod (see `sync --help`).
# Build after `npm run build`: docker build -t kubectl-proxymode .
# The bundle (dist/) holds every dependency, so the image needs Node and the netfilter tools only.
# Debian 13 (trixie) on purpose, for its nft 1.1.3 (iptables 1.8.11, ipset, ipvsadm, conntrack, nfacct are
# there too). Debian 12's nft 1.0.6 (node:22-slim is bookworm) segfaults on any set a newer nft wrote, in any
# table, so on such a node every sync fails (kubernetes#136786; reproduced here); kube-proxy's own image left
# it for nft 1.0.6.1 for that reason. 1.1.3 behaves as 1.0.6.1 does: it reads what 1.0.2-1.1.3 wrote, and
# the sets it writes crash an nft 1.0.6 or older on the host, as 1.0.6.1's do (checked with 1.0.2, 1.0.6).
# It does not make a partial sync faster: at 10,000 services that is kernel time, alike for each nft.
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
