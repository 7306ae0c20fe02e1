/**
 * The token and sealer helpers under their former path, for modules not yet importing them from
 * `secrets/` directly; new code imports `secrets/tokens.js` and `secrets/sealer.js`.
 */
export { hashToken, newToken, safeEqual } from './secrets/tokens.js';
export type { Sealer } from './secrets/sealer.js';
