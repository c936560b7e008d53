/** The workflow types the Gameday worker registers (the names the Web UI's Start Workflow form takes). */
export { experiment } from './experiment';
export { janitor } from './janitor';
export { notify } from './notify';
export { targetLock } from './lock';
export { scenario } from './scenario';
export { resolveOnHosts } from './dry-run';
