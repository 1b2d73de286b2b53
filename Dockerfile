# kubectl-proxymode as a node's proxier: `sync` in a privileged, hostNetwork pod (see `sync --help`).
# Build after `npm run build`: docker build -t kubectl-proxymode .
# The bundle (dist/) holds every dependency, so the image needs Node and the netfilter tools only.
FROM node:22-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables nftables ipset ipvsadm conntrack iproute2 nfacct \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/kubectl-proxymode
COPY package.json ./
COPY bin/ ./bin/
COPY dist/ ./dist/
ENTRYPOINT ["/opt/kubectl-proxymode/bin/kubectl-proxymode"]
CMD ["sync", "--help"]
