/**
 * A record-checking worker thread (see record-check-workers.ts): checks each chunk it is sent and sends the
 * plaintext back with the results, both by transfer. Built into its own bundle, dist/record-check-worker.cjs.
 */
import { parentPort } from 'node:worker_threads'
import { observationChecker } from '../store/comapeo-schema.js'
import { checkRecords, type CheckedRecords } from './records-check.js'

export interface CheckRequest {
  id: number
  plaintext: Uint8Array
}

export interface CheckReply {
  id: number
  plaintext: Uint8Array
  checked: CheckedRecords
}

const port = parentPort
if (port) {
  // Loaded once, while the first chunks are on their way.
  const checker = observationChecker()
  port.on('message', (request: CheckRequest) => {
    void checker.then((isObservation) => {
      const plaintext = Buffer.from(request.plaintext.buffer, request.plaintext.byteOffset, request.plaintext.byteLength)
      const checked = checkRecords(plaintext, isObservation)
      const reply: CheckReply = { id: request.id, plaintext, checked }
      port.postMessage(reply, [...new Set([plaintext.buffer, checked.entries.buffer, checked.summaries.buffer])] as ArrayBuffer[])
    })
  })
}
