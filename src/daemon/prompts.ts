import path from 'node:path'
import type { Drive } from '../watchers/drive-source.js'

/** A question waiting for an answer: "Sync <file> on <drive> with <project>?". */
export interface Prompt {
  id: string
  path: string
  /** The drive's label, or null for the inbox. */
  drive: string | null
  driveId: string | null
  /** Name of this computer's project the file belongs to. */
  project: string
  createdAt: string
}

/** Pending prompts, at most one per file. Ids are short so they can be typed: `ferry accept p3`. */
export class PromptList {
  private readonly byId = new Map<string, Prompt>()
  private next = 1

  add(file: string, drive: Drive | null, project: string): Prompt | null {
    if (this.forPath(file)) return null
    const prompt: Prompt = {
      id: `p${this.next++}`,
      path: file,
      drive: drive?.label ?? null,
      driveId: drive?.id ?? null,
      project,
      createdAt: new Date().toISOString(),
    }
    this.byId.set(prompt.id, prompt)
    return prompt
  }

  get(id: string): Prompt | undefined {
    return this.byId.get(id)
  }

  forPath(file: string): Prompt | undefined {
    return [...this.byId.values()].find((p) => p.path === file)
  }

  /** Prompts for files under a mount point (for withdrawing them when the drive goes). */
  under(mountPoint: string): Prompt[] {
    const prefix = mountPoint.endsWith(path.sep) ? mountPoint : mountPoint + path.sep
    return [...this.byId.values()].filter((p) => p.path.startsWith(prefix))
  }

  remove(id: string): Prompt | undefined {
    const prompt = this.byId.get(id)
    this.byId.delete(id)
    return prompt
  }

  all(): Prompt[] {
    return [...this.byId.values()]
  }
}
