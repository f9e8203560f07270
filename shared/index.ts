export * from './codes';
export * from './claims';
export * from './events';
