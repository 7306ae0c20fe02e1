import type { VersionInfo } from '@vigil/protocol';

// Set by the production build (scripts/build.mjs); absent when running from TypeScript sources.
declare const __VIGIL_BUILD__: { version: string; commit: string; build_time: string } | undefined;

const build =
  typeof __VIGIL_BUILD__ === 'undefined'
    ? { version: '0.1.0-dev', commit: 'unknown', build_time: null }
    : __VIGIL_BUILD__;

/** This server's version string. */
export const VERSION: string = build.version;

/** Build metadata for `GET /api/v1/version`. */
export const versionInfo = (): VersionInfo => ({
  vigil: build.version,
  // OpenWatch clients read the server's version from `openwatch`.
  openwatch: build.version,
  node: process.version,
  commit: build.commit,
  build_time: build.build_time,
});
