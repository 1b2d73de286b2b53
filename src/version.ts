// Replaced at build time from package.json (esbuild define); the fallback serves tests run from source.
declare const __PROXYMODE_VERSION__: string | undefined;
export const VERSION: string = typeof __PROXYMODE_VERSION__ === 'string' ? __PROXYMODE_VERSION__ : '0.0.0-dev';
