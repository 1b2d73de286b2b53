// core/nftables: kube-proxy's nftables mode — render, text, parse, trace, drift, plan.
export { nftablesMode } from './mode.js';
export { renderNftables, nftLocalDetector, type NftNode, type NftRenderInput } from './render.js';
export { LAYOUTS, NEWEST_LAYOUT, layoutForVersion, type NftLayout } from './layout.js';
export { dumpLines, dumpText, transactionText } from './serialize.js';
export { plan, applyPlan, changedServicePorts, type NftPlan, type NftPlanOperation } from './plan.js';
export { parseListing, type ListedTable } from './parse-text.js';
export { parseJsonListing } from './parse-json.js';
export { NFT_JSON, NFT_TEXT, kubeProxyTable, listedTables, otherTables } from './dumps.js';
export { canonicalLines } from './canonical.js';
export { tableDrift } from './drift.js';
export { narrowTable } from './narrow.js';
export { summarizeTable } from './summary.js';
export { nftablesEvaluator, traceTable } from './tracer.js';
export type { NftChain, NftElement, NftSet, NftTable } from './types.js';
