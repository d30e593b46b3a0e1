import { createHash } from 'node:crypto'

/**
 * A project is its 32-byte secret. The project id is a one-way hash of it, safe to write in clear (the sync file's
 * header carries it); the secret itself is never written anywhere but the data folder and exported project files.
 */
export const PROJECT_SECRET_BYTES = 32

export function projectIdOf(secret: Buffer): Buffer {
  return createHash('sha256').update('ferry/v1/project-id\0').update(secret).digest()
}
