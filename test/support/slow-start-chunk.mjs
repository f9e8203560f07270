// For `node --import` (NODE_OPTIONS): holds back the loading of the server's chunk
// (dist/chunks/start-*.js) by SLOW_START_CHUNK_MS (1500 unless given), so a test can see what
// `npm start` does before its server has loaded (server/main.ts, server/early-port.ts).
import { register } from 'node:module';

const ms = Number(process.env.SLOW_START_CHUNK_MS ?? 1500);
const hooks = `export async function load(url, context, next) {
  if (/\\/chunks\\/start-[^/]*\\.js$/.test(url)) await new Promise((resolve) => setTimeout(resolve, ${ms}));
  return next(url, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
