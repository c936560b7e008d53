/** bench/families.ts heldConnectionMemory(): runs in a fresh process, prints its measurement as JSON. */
import { measureHeldConnections } from './families';

measureHeldConnections().then(
  (m) => console.log(JSON.stringify(m)),
  (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  },
);
