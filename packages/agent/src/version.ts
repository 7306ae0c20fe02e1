/** Build metadata, replaced at bundle time; the fallbacks apply when run from source. */
declare const __VIGIL_AGENT_VERSION__: string | undefined;

/** The agent's version. */
export const AGENT_VERSION: string =
  typeof __VIGIL_AGENT_VERSION__ === 'string' ? __VIGIL_AGENT_VERSION__ : '0.1.0-dev';
