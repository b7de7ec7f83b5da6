/**
 * Driving the load generator (generator.ts) from a benchmark: it runs in a process of its own, takes
 * one JSON command a line on stdin and answers one JSON result a line on stdout. Used by run.ts and
 * cluster.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * A bash script that raises the open-files limit to `want` where the hard limit allows (or the shell
 * may raise the hard limit, as root), else to the hard limit; then runs the command ("$0" "$@").
 */
export const ULIMIT = (want: number) =>
  `h="$(ulimit -Hn)"; if [ "$h" != unlimited ] && [ "$h" -lt ${want} ]; then ulimit -Hn ${want} 2>/dev/null; fi; ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`;

export interface Generator {
  proc: ChildProcess;
  /** The next result line, parsed (in order; waits for it). */
  next(): Promise<unknown>;
  send(command: object): void;
}

/** Start the generator with its configuration, allowed `openFiles` descriptors. */
export function startGenerator(config: object, openFiles: number): Generator {
  const entry = join(dirname(fileURLToPath(import.meta.url)), 'generator.js');
  const proc = spawn('bash', ['-c', ULIMIT(openFiles), process.execPath, entry, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: proc.stdout! });
  const queue: unknown[] = [];
  const waiters: Array<{ resolve: (v: unknown) => void; reject: (e: Error) => void }> = [];
  lines.on('line', (l) => {
    const v: unknown = JSON.parse(l);
    const w = waiters.shift();
    if (w) w.resolve(v);
    else queue.push(v);
  });
  proc.once('exit', (code) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`generator exited with ${code}`));
  });
  return {
    proc,
    next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((resolve, reject) => waiters.push({ resolve, reject }))),
    send: (o) => proc.stdin!.write(JSON.stringify(o) + '\n'),
  };
}

/** Ask it to exit; kill it after 10 s. */
export async function stopGenerator(g: Generator): Promise<void> {
  if (g.proc.exitCode !== null) return;
  g.send({ cmd: 'exit' });
  await new Promise((r) => {
    const t = setTimeout(() => g.proc.kill('SIGKILL'), 10_000);
    g.proc.once('exit', () => {
      clearTimeout(t);
      r(null);
    });
  });
}
