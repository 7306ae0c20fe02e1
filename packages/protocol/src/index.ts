/**
 * Wire schemas and types shared by the Vigil server and agent. This package performs no I/O and
 * imports nothing from the other packages.
 */
export * from './errors.js';
export * from './permissions.js';
export * from './api.js';
export * from './checkdata.js';
export * from './collector.js';
export * from './agents.js';
export * from './perfdata.js';
export * from './tls.js';
export * from './guards.js';
export * from './deployments.js';
export * from './logs.js';
export * from './compliance.js';
