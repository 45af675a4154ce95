import { fileURLToPath } from 'node:url';
import { startServer } from '@langchain/langgraph-api/server';

// The peer for `npm run bench -- compare`, in a process of its own: `@langchain/langgraph-api`'s in-memory dev
// server (what `langgraphjs dev` runs, with its default of 10 jobs per worker) serving ./graph.ts.
// Arguments: the port, and the folder it keeps its files in (its working directory).

const [port, cwd] = process.argv.slice(2) as [string, string];
process.chdir(cwd);
await startServer({
  port: Number(port),
  nWorkers: 10,
  host: '127.0.0.1',
  cwd,
  graphs: { agent: `${fileURLToPath(new URL('./graph.ts', import.meta.url))}:graph` },
});
