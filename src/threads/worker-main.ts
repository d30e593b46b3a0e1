/**
 * The worker thread's side (see worker-thread.ts): checks records chunks for a merge, so the merge's own thread only
 * reads, decrypts and writes. Buffers come and go by transfer. Built into its own bundle, dist/worker.cjs.
 */
import { parentPort } from 'node:worker_threads'
import { observationChecker } from '../store/comapeo-schema.js'
import { checkRecords, type CheckedRecords } from '../merge/records-check.js'

/** Check a records chunk (records-check.ts); the plaintext comes back with the result. */
export interface Request {
  id: number
  kind: 'check'
  plaintext: Uint8Array
}

export interface Reply {
  id: number
  kind: 'checked'
  plaintext: Uint8Array
  checked: CheckedRecords
}

const port = parentPort
if (port) {
  // Loaded once, while the first chunks are on their way; requests are answered in the order they came.
  const checker = observationChecker()
  port.on('message', (request: Request) => {
    void checker.then((isObservation) => {
      const plaintext = Buffer.from(request.plaintext.buffer, request.plaintext.byteOffset, request.plaintext.byteLength)
      const checked = checkRecords(plaintext, isObservation)
      const reply: Reply = { id: request.id, kind: 'checked', plaintext, checked }
      port.postMessage(reply, [...new Set([plaintext.buffer, checked.entries.buffer, checked.summaries.buffer])] as ArrayBuffer[])
    })
  })
}
