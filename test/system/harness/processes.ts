import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'

/**
 * Every process a system test starts goes through here, so afterAll can stop them all by PID, even when the
 * test failed half-way.
 */
export class Processes {
  private readonly children: { name: string; child: ChildProcess }[] = []

  start(name: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts })
    child.on('error', () => undefined)
    this.children.push({ name, child })
    return child
  }

  /** SIGTERM each (newest first), then SIGKILL what is still there after a grace period; waits for each exit. */
  async stopAll(): Promise<void> {
    for (const { child } of this.children.reverse()) await stopChild(child)
    this.children.length = 0
  }
}

export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (exited(child) || child.pid === undefined) return
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    process.kill(child.pid, 'SIGTERM')
  } catch {
    return
  }
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)))
  if ((await Promise.race([done, late])) === 'late') {
    try {
      process.kill(child.pid, 'SIGKILL')
    } catch {
      // already gone
    }
    await done
  }
  clearTimeout(timer)
}

/** Collects a child's output, for polling and for failure messages. */
export function capture(child: ChildProcess): { text(): string } {
  let out = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()))
  return { text: () => out }
}
