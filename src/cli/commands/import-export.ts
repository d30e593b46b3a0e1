import type { Command } from 'commander'
import { copyFile, mkdir, stat } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { badInput, diskError } from '../../errors.js'
import { isFolder } from '../../fs/is-folder.js'
import { checkOutputPath } from '../../fs/output-path.js'
import { geoJsonExportParts, jsonExportParts } from '../../documents/export-format.js'
import { openImportFile } from '../../documents/import-file.js'
import { planImport } from '../../documents/import-parse.js'
import { importFate } from '../../documents/import-fate.js'
import { comapeoSchema } from '../../store/comapeo-schema.js'
import { SHA256_HEX } from '../../store/media-store.js'
import type { Store } from '../../store/store.js'
import type { BlobRecord } from '../../store/blob-record.js'
import { makeVariants } from '../../store/media-variants.js'
import { dataDirOf, output, plural, progressCount, withStore } from '../context.js'
import { writeText, writeTextFile } from '../text-out.js'

export function registerImportExportCommands(program: Command): void {
  program
    .command('import')
    .description('add observations from a JSON array of CoMapeo documents or a GeoJSON FeatureCollection')
    .argument('<file>', 'the .json or .geojson file')
    .option('--media <dir>', 'folder holding attachment files, each named by its SHA-256 hex')
    .option('--restore', 'also write documents older than what is here (changed or deleted since), bringing them back')
    .action(async (file: string, opts: { media?: string; restore?: boolean }, command: Command) => {
      // Open until the documents are written: read twice (checked, then written), always the same file.
      const input = await openImportFile(file)
      try {
        const plan = planImport(input.fd, file, await comapeoSchema(), progressCount(command, 'observations', 'writing'))
        if (opts.media && !existsSync(opts.media)) throw badInput(`The media folder ${opts.media} does not exist.`)
        if (opts.media && !isFolder(opts.media)) throw badInput(`--media ${opts.media} is a file, not a folder. Give the folder that holds the media files.`)
        await withStore(command, (store) =>
          store.exclusive(async () => {
            const blobs = opts.media ? await bringInBlobs(store, opts.media, plan.attachmentHashes) : []
            // A document this device holds as the file has it is already here; one changed or deleted here since
            // the export is older, and writing it would undo that (import-fate.ts). Decided as the documents are
            // written, inside the one transaction; a refused document writes nothing.
            let alreadyHere = 0
            let older = 0
            const changes = (function* () {
              for (const given of plan.changes()) {
                const fate = importFate(store, given)
                if (fate.kind === 'here') alreadyHere++
                else if (fate.kind === 'older' && !opts.restore) older++
                else yield fate.change
              }
            })()
            const ids = await store.writeLocal(changes, blobs)
            const originals = blobs.filter((b) => !b.variant)
            const missing = plan.attachmentHashes.filter((h) => !store.hasBlob(h)).length
            output(command, { imported: ids.length, blobs: originals.length, missingMedia: missing, alreadyHere, older }, () =>
              [
                `Imported ${plural(ids.length, 'observation')} and ${plural(originals.length, 'media file')}.`,
                alreadyHere > 0 ? `${plural(alreadyHere, 'observation')} ${alreadyHere === 1 ? 'was' : 'were'} already here, unchanged.` : '',
                older > 0 ? `${plural(older, 'observation')} ${older === 1 ? 'is' : 'are'} older than here (changed or deleted since) and ${older === 1 ? 'was' : 'were'} left as ${older === 1 ? 'it is' : 'they are'}; add --restore to bring ${older === 1 ? 'it' : 'them'} back.` : '',
                missing > 0 ? `${plural(missing, 'attachment')} had no file here; they are kept as references and arrive when a device that has them syncs.` : '',
              ]
                .filter(Boolean)
                .join('\n'),
            )
          }),
        )
      } finally {
        input.close()
      }
    })

  program
    .command('export')
    .description('write the current observations, sorted by docId, as CoMapeo JSON or GeoJSON')
    .argument('<file>', 'where to write them (- for standard output)')
    .option('--format <format>', 'json or geojson', 'json')
    .option('--media <dir>', 'also copy their attachment files into this folder, named by SHA-256 hex')
    .action(async (file: string, opts: { format: string; media?: string }, command: Command) => {
      if (opts.format !== 'json' && opts.format !== 'geojson') throw badInput(`--format must be json or geojson, not ${opts.format}.`)
      const toStdout = file === '-'
      // Checked before anything is written, so a bad --media never leaves an export without its media.
      if (opts.media && existsSync(opts.media) && !isFolder(opts.media)) {
        throw badInput(`--media ${opts.media} is a file, not a folder. Give a folder for the media files (it is made if missing).`)
      }
      if (!toStdout) {
        checkOutputPath(file, { example: `observations.${opts.format}`, dataDir: dataDirOf(command), mayReplace: isEarlierExport, replaceable: 'an earlier export' })
      }
      await withStore(command, async (store) => {
        // One document at a time from the store to the file; only the count and the attachments' hashes are kept.
        let count = 0
        const hashes = new Set<string>()
        const versions = (function* () {
          for (const v of store.currentVersions()) {
            count++
            for (const a of (v.value.attachments as Array<{ hash?: unknown }> | undefined) ?? []) hashes.add(String(a.hash))
            yield v
          }
        })()
        try {
          const parts = opts.format === 'json' ? jsonExportParts(versions) : geoJsonExportParts(versions)
          if (toStdout) await writeText(process.stdout, parts)
          else await writeTextFile(file, parts)
        } catch (err) {
          throw diskError(err, file)
        }
        const copied = opts.media ? await copyOutBlobs(store, opts.media, hashes) : 0
        const where = toStdout ? 'standard output' : file
        // With `-` the documents are the output: the summary goes to stderr, where it cannot corrupt them.
        output(command, { file, observations: count, media: copied }, () => `Exported ${plural(count, 'observation')} to ${where}${opts.media ? ` and ${plural(copied, 'media file')} to ${opts.media}` : ''}.`, toStdout ? process.stderr : process.stdout)
      })
    })
}

/** Streams each attachment present in `dir` into the media store, checking its content matches its name. */
async function bringInBlobs(store: Store, dir: string, hashes: string[]): Promise<BlobRecord[]> {
  const blobs: BlobRecord[] = []
  for (const hash of hashes) {
    if (!SHA256_HEX.test(hash) || store.hasBlob(hash)) continue
    const source = path.join(dir, hash)
    if (!existsSync(source)) continue
    const blob = await store.media.addFile(source)
    if (blob.hash !== hash) throw badInput(`The media file ${source} does not match its name (its SHA-256 is ${blob.hash}). Nothing was imported.`)
    blobs.push(blob, ...(await makeVariants(store.media, blob.hash)))
  }
  return blobs
}

async function copyOutBlobs(store: Store, dir: string, hashes: ReadonlySet<string>): Promise<number> {
  try {
    await mkdir(dir, { recursive: true })
  } catch (err) {
    throw diskError(err, dir)
  }
  let copied = 0
  for (const hash of [...hashes].sort()) {
    if (!SHA256_HEX.test(hash) || !store.hasBlob(hash)) continue
    const target = path.join(dir, hash)
    const existing = await stat(target).catch(() => undefined)
    if (existing?.isFile()) continue
    try {
      await copyFile(store.media.pathOf(hash), target)
    } catch (err) {
      throw diskError(err, target)
    }
    copied++
  }
  return copied
}

/**
 * Whether a file export may replace is one it wrote before (or an empty one): JSON text, and not the project file,
 * whose JSON holds the project's key. Anything else — a sync file, a database, a photo — is refused, not replaced.
 */
function isEarlierExport(head: Buffer): boolean {
  const text = head.toString('utf8')
  const first = text.trimStart()[0]
  return (first === undefined || first === '[' || first === '{') && !/"format"\s*:\s*"ferry-project"/.test(text)
}
