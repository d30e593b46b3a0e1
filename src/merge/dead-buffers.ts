import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * A receive reads, decrypts and checks about twice the file's size in buffers that live for a moment. V8 frees an
 * ArrayBuffer's memory only when a full collection finds it dead, and starts one for that reason only once ~64 MB
 * of it are outstanding; the main heap itself stays small (~10 MB) and seldom needs one. So an import carried up to
 * ~95 MB of dead buffers: 100k observations peaked at 187–192 MB RSS. A full collection of that small heap takes
 * ~2 ms; one every 32 MiB read brought the peak to 165–170 MB in the same time.
 */
export const COLLECT_EVERY_BYTES = 32 * 1024 * 1024

let collect: (() => void) | undefined

export function collectDeadBuffers(): void {
  if (!collect) {
    // The documented way to reach V8's collector from a running process (Node has no other).
    setFlagsFromString('--expose-gc')
    collect = runInNewContext('gc') as () => void
  }
  collect()
}
