// node-pg-migrate publishes its types under "exports" only, which moduleResolution "node" does not read.
declare module 'node-pg-migrate' {
  export * from 'node-pg-migrate/dist/bundle/index';
}
