/** The entry of the fault proxy's bundle (dist/bundle/http-proxy.js): `node http-proxy.js --upstream URL --listen HOST:PORT --admin HOST:PORT`. */
import { runFaultProxy } from './main';

runFaultProxy(process.argv.slice(2)).catch((e: Error) => {
  process.stderr.write(`gameday http-proxy: ${e.message}\n`);
  process.exit(1);
});
