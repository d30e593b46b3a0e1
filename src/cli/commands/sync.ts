import type { Command } from 'commander'
import { closeSync, existsSync, openSync, readSync } from 'node:fs'
import path from 'node:path'
import { badInput } from '../../errors.js'
import { createSyncFile, syncWithFile } from '../../merge/merge.js'
import type { MediaPolicy, SyncReport } from '../../merge/types.js'
import { verifySyncFile } from '../../merge/verify.js'
import { salvageSyncFile, type SalvageReport } from '../../merge/salvage.js'
import { FerryError } from '../../errors.js'
import { formatBytes } from '../../format-bytes.js'
import { cliLog, dataDirOf, output, plural, progressBar, withStore } from '../context.js'
import { socketPath } from '../../daemon/protocol.js'
import { interruptible } from '../interruptible.js'
import { FRAME_BYTES, HEADER_BYTES } from '../../syncfile/format.js'
import { hasMagic } from '../../syncfile/header.js'

export function registerSyncCommands(program: Command): void {
  program
    .command('create')
    .description('write a new sync file with everything on this computer')
    .argument('<file>', 'the new file, e.g. /media/me/KINGSTON/field.ferry')
    .option('--media <which>', 'all, previews or none: which photos and recordings to include', 'all')
    .action(async (file: string, opts: { media: string }, command: Command) => {
      if (!['all', 'previews', 'none'].includes(opts.media)) throw badInput(`--media must be all, previews or none, not ${opts.media}.`)
      if (file === '-') throw badInput('A sync file cannot go to standard output (it is written in place, then renamed). Give a file name, such as field.ferry.')
      const report = await withStore(command, async (store) =>
        interruptible(`Stopped: ${file} was not made, and nothing of it was left on the drive.`, async (signal) =>
          createSyncFile(store, path.resolve(file), { media: opts.media as MediaPolicy, onProgress: progressBar(command), log: await cliLog(command), signal }),
        ),
      )
      output(command, report, () => `Created ${file}: ${plural(report.sent.versions, 'record')}, ${plural(report.sent.blobs, 'media file')}, ${formatBytes(report.sent.bytes)}.\nCopy it to the other computer and run \`ferry sync\` there.`)
    })

  program
    .command('sync')
    .description('two-way merge with a sync file: take what it has, add what this computer has')
    .argument('<file>', 'the sync file')
    .option('--salvage', 'take every intact record and photo out of a damaged file (never writes to it)')
    .action(async (file: string, opts: { salvage?: boolean }, command: Command) => {
      const absolute = path.resolve(file)
      if (opts.salvage) {
        const report = await withStore(command, async (store) =>
          interruptible('Stopped before the salvage finished. Nothing was changed; run it again.', (signal) => salvageSyncFile(store, absolute, { onProgress: progressBar(command), signal })),
        )
        output(command, report, () => describeSalvage(report, file))
        return
      }
      // While the daemon runs it owns the merges of this data folder (one queue, one lock); ask it to do this one.
      // Its client (node:net, node:readline) loads only then.
      const dataDir = dataDirOf(command)
      const viaDaemon = existsSync(socketPath(dataDir)) ? await (await import('../../daemon/client.js')).syncThroughDaemon(dataDir, absolute, progressBar(command)) : null
      const report =
        viaDaemon ??
        (await withStore(command, async (store) =>
          interruptible('Stopped before the sync finished. Nothing was lost: sync again to finish it.', async (signal) =>
            syncWithFile(store, absolute, { onProgress: progressBar(command), log: await cliLog(command), signal }).catch(withSalvageHint(file)),
          ),
        ))
      output(command, report, () => describeSync(report, file))
    })

  program
    .command('verify')
    .description('check a sync file completely without changing anything')
    .argument('<file>', 'the sync file')
    .action(async (file: string, _opts, command: Command) => {
      const report = await withStore(command, (store) => verifySyncFile(store, path.resolve(file)).catch(withoutVerifyHint).catch(withSalvageHint(file)))
      output(command, report, () =>
        [
          `${file} is intact: ${plural(report.commits, 'commit')}, ${plural(report.versions, 'record')} from ${plural(report.devices, 'device')}, ${plural(report.blobs, 'media file')} (${formatBytes(report.blobBytes)}).`,
          report.tail.state === 'torn' ? `It ends with ${formatBytes(report.tail.bytes)} from an interrupted sync; the next sync cuts them off.` : '',
        ]
          .filter(Boolean)
          .join('\n'),
      )
    })
}

function describeSync(r: SyncReport, file: string): string {
  if (r.received.versions + r.received.blobs + r.sent.versions + r.sent.blobs === 0) return `${file} and this computer already had the same data. Nothing was changed.`
  return [
    `Received ${plural(r.received.versions, 'record')} and ${plural(r.received.blobs, 'media file')} (${formatBytes(r.received.bytes)}).`,
    `Sent ${plural(r.sent.versions, 'record')} and ${plural(r.sent.blobs, 'media file')} (${formatBytes(r.sent.bytes)}).`,
    `Done in ${(r.ms / 1000).toFixed(1)} s. The file is saved: it is safe to remove the drive.`,
  ].join('\n')
}

function describeSalvage(r: SalvageReport, file: string): string {
  return [
    `Salvaged from ${file}: ${plural(r.received.versions, 'record')} and ${plural(r.received.blobs, 'media file')} (${formatBytes(r.received.bytes)}). The file was not changed.`,
    r.chunks.damaged > 0 ? `${plural(r.chunks.damaged, 'damaged part')} could not be read.` : '',
    r.missing.versions + r.missing.blobs > 0 ? `Lost from this copy: ${plural(r.missing.versions, 'record')} and ${plural(r.missing.blobs, 'media file')}; sync with another copy or with the computer that made them.` : '',
    ...r.devicesStopped.map((d) => `Records of device ${d.deviceId.slice(0, 12)}… stop at number ${d.importedUpTo}: ${d.reason}.`),
    'Make a fresh sync file with `ferry create` to carry on.',
  ]
    .filter(Boolean)
    .join('\n')
}

/** A damaged file (not a wrong project or a newer format): say that salvage can still take out what is intact. */
function withSalvageHint(file: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof FerryError && err.kind === 'damaged' && salvageCouldHelp(file)) {
      throw new FerryError('damaged', `${err.message} \`ferry sync --salvage ${file}\` takes every intact record and photo out of it without changing it.`, { cause: err })
    }
    throw err
  }
}

/** Salvage reads chunks after a Ferry header: nothing to offer for an empty file, or one that is not Ferry's at all. */
function salvageCouldHelp(file: string): boolean {
  try {
    const head = Buffer.alloc(HEADER_BYTES + FRAME_BYTES)
    const fd = openSync(file, 'r')
    try {
      return readSync(fd, head, 0, head.length, 0) === head.length && hasMagic(head)
    } finally {
      closeSync(fd)
    }
  } catch {
    return false
  }
}

/** Damage found by verify itself: its message need not suggest running verify. */
function withoutVerifyHint(err: unknown): never {
  if (err instanceof FerryError && err.message.includes(VERIFY_HINT)) throw new FerryError(err.kind, err.message.replace(VERIFY_HINT, ''), { cause: err })
  throw err
}

const VERIFY_HINT = ', or run `ferry verify` for details'
