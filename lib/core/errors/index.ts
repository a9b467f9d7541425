export * from './blaze-rpc.error.js';
export * from './call-status.error.js';
export * from './configuration.error.js';
export * from './inference.error.js';
export * from './model-not-found.error.js';
export * from './serialization.error.js';
export * from './validation.error.js';
