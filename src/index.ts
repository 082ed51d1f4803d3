export * from './events/index.ts';
export * from './store/index.ts';
export * from './runtime/index.ts';
