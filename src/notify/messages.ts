import path from 'node:path'
import type { SyncReport } from '../merge/types.js'

/** Every sentence the daemon shows a person, in one place so they stay plain and consistent. */

export function promptText(file: string, drive: string | null, project: string): { title: string; body: string } {
  const where = drive ? ` on ${drive}` : ' in the inbox'
  return { title: `Sync ${path.basename(file)}${where} with ${project}?`, body: `Ferry will merge both ways: this computer gets what the file has, and the file gets what this computer has.` }
}

export function syncedText(file: string, drive: string | null, report: SyncReport): { title: string; body: string } {
  const counts = `Received ${report.received.versions}, sent ${report.sent.versions}`
  if (drive) return { title: `${counts} — safe to remove ${drive}`, body: `${path.basename(file)} is up to date and written to the drive.` }
  const sent = report.sent.versions + report.sent.blobs > 0
  return {
    title: `${counts} — ${path.basename(file)} is ready`,
    body: sent ? `The file in the inbox now holds this computer's data too; send it back.` : `This computer took in what the file held; the file already had all of this computer's data.`,
  }
}

export function createdText(file: string, drive: string | null, report: SyncReport): { title: string; body: string } {
  const where = drive ? ` — safe to remove ${drive}` : ''
  const changes = `${report.sent.versions} change${report.sent.versions === 1 ? '' : 's'}`
  return { title: `Created ${path.basename(file)}${where}`, body: `It holds ${changes}. Saved at ${file}.` }
}

export function incompleteText(file: string): { title: string; body: string } {
  return {
    title: `${path.basename(file)} in the inbox is incomplete`,
    body: `It stopped arriving before its end. If the copy or download has finished, the file was cut short: copy or download it again. Ferry has not changed it.`,
  }
}

export function failedText(file: string, message: string): { title: string; body: string } {
  return { title: `Could not sync ${path.basename(file)}`, body: message }
}

export function otherProjectText(file: string, projectId: string): { title: string; body: string } {
  return {
    title: `${path.basename(file)} belongs to another project`,
    body: `This file is for project ${projectId.slice(0, 12)}…, not this computer's. Ferry did not change it. Both computers must use the same project to sync.`,
  }
}
