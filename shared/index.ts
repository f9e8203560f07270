export * from './codes';
export * from './claims';
export * from './events';
export * from './text';
export * from './url-path';
