import type { Command } from 'commander'
import { accessSync, constants, statSync } from 'node:fs'
import path from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { badInput } from '../../errors.js'
import { checkObservation } from '../../documents/import-parse.js'
import { comapeoSchema } from '../../store/comapeo-schema.js'
import { addPhoto } from '../../store/media-variants.js'
import { resolveDocId } from '../../documents/resolve-doc.js'
import { collectTag, parseCoordinate, parseTags } from '../../documents/tags.js'
import { toComapeoDoc, type Version } from '../../store/version.js'
import { globals, output, withStore } from '../context.js'
import { writeText } from '../text-out.js'

export function registerDocumentCommands(program: Command): void {
  program
    .command('add')
    .description('record a new observation; prints its docId')
    .requiredOption('--lat <n>', 'latitude in degrees')
    .requiredOption('--lon <n>', 'longitude in degrees')
    .option('--tag <key=value>', 'a tag, repeatable', collectTag, [])
    .option('--photo <file>', 'attach a photo, repeatable', collectTag, [])
    .action(async (opts: { lat: string; lon: string; tag: string[]; photo: string[] }, command: Command) => {
      const lat = parseCoordinate(opts.lat, 'lat')
      const lon = parseCoordinate(opts.lon, 'lon')
      const tags = Object.fromEntries(parseTags(opts.tag))
      for (const photo of opts.photo) checkReadableFile(photo)
      await withStore(command, (store) =>
        store.exclusive(async () => {
          const now = new Date().toISOString()
          const attachments = []
          const blobs = []
          const attached = new Set<string>()
          for (const photo of opts.photo) {
            const [original, ...variants] = await addPhoto(store.media, photo)
            // The same photo given twice (by two names, even) is one attachment.
            if (attached.has(original!.hash)) continue
            attached.add(original!.hash)
            blobs.push(original!, ...variants)
            attachments.push({ driveDiscoveryId: store.info.deviceId, name: path.basename(photo), type: 'photo', hash: original!.hash, external: true, createdAt: now })
          }
          const value = { schemaName: 'observation', lat, lon, attachments, tags }
          checkObservation(await comapeoSchema(), value, 'The new observation')
          const [versionId] = await store.writeLocal([{ value, createdAt: now, updatedAt: now }], blobs)
          const docId = store.getVersion(versionId!)!.docId
          output(command, { docId, versionId }, () => docId)
        }),
      )
    })

  program
    .command('edit')
    .description('change an observation: tags (key= removes one) and position')
    .argument('<docId>', 'the observation (a unique prefix is enough)')
    .option('--tag <key=value>', 'set a tag, repeatable; an empty value removes it', collectTag, [])
    .option('--lat <n>', 'new latitude (with --lon)')
    .option('--lon <n>', 'new longitude (with --lat)')
    .action(async (given: string, opts: { tag: string[]; lat?: string; lon?: string }, command: Command) => {
      if ((opts.lat === undefined) !== (opts.lon === undefined)) throw badInput('Give --lat and --lon together to move an observation.')
      if (opts.tag.length === 0 && opts.lat === undefined) throw badInput('Nothing to change: give --tag KEY=VALUE (KEY= removes a tag), or --lat and --lon.')
      const lat = parseCoordinate(opts.lat, 'lat')
      const lon = parseCoordinate(opts.lon, 'lon')
      const changes = parseTags(opts.tag)
      await withStore(command, (store) =>
        store.exclusive(async () => {
          const docId = resolveDocId(store, given)
          const current = store.heads(docId)[0]!
          if (current.deleted) throw badInput(`Observation ${docId.slice(0, 12)}… was deleted; it cannot be edited.`)
          const tags = { ...(current.value.tags as Record<string, unknown>) }
          for (const [k, v] of changes) {
            if (v === '') delete tags[k]
            else tags[k] = v
          }
          const value = { ...current.value, tags, ...(lat !== undefined ? { lat, lon } : {}) }
          // The same values again: no new version, which would only win over a teammate's real change made meanwhile.
          // (Several heads are different: editing joins them, a change in itself.)
          if (store.heads(docId).length === 1 && isDeepStrictEqual(value, current.value)) {
            output(command, { docId, versionId: current.versionId }, () => `No change: ${docId} already has these values.`)
            return
          }
          checkObservation(await comapeoSchema(), value, `The edited observation ${docId.slice(0, 12)}…`)
          const [versionId] = await store.writeLocal([{ docId, value }])
          output(command, { docId, versionId }, () => `Edited ${docId}`)
        }),
      )
    })

  program
    .command('delete')
    .description('delete an observation (it stays deleted on every device it syncs with)')
    .argument('<docId>', 'the observation (a unique prefix is enough)')
    .action(async (given: string, _opts, command: Command) => {
      await withStore(command, (store) =>
        store.exclusive(async () => {
          const docId = resolveDocId(store, given)
          const current = store.heads(docId)[0]!
          if (current.deleted && store.heads(docId).length === 1) throw badInput(`Observation ${docId.slice(0, 12)}… is already deleted.`)
          const [versionId] = await store.writeLocal([{ docId, deleted: true, value: current.value }])
          output(command, { docId, versionId }, () => `Deleted ${docId}`)
        }),
      )
    })

  program
    .command('list')
    .description('the current observations, by docId')
    .action(async (_opts, command: Command) => {
      // Printed one document at a time: a project of 100,000 observations is never held whole.
      await withStore(command, async (store) => {
        const versions = store.currentVersions()
        await writeText(process.stdout, globals(command).json ? jsonArrayParts(versions) : listLines(versions))
      })
    })

  program
    .command('show')
    .description('one observation as a CoMapeo document; --forks lists every head, the winner first')
    .argument('<docId>', 'the observation (a unique prefix is enough)')
    .option('--forks', 'list every head of a forked observation, the winner first')
    .action(async (given: string, opts: { forks?: boolean }, command: Command) => {
      await withStore(command, async (store) => {
        const docId = resolveDocId(store, given)
        const heads = store.heads(docId).map(toComapeoDoc)
        const data = opts.forks ? heads : heads[0]
        output(command, data, () => JSON.stringify(data, null, 2))
      })
    })
}

function checkReadableFile(file: string): void {
  try {
    accessSync(file, constants.R_OK)
    if (!statSync(file).isFile()) throw new Error('not a file')
  } catch {
    throw badInput(`Cannot read the photo ${file}. Check the path and that it is a file you can open.`)
  }
}

function fmtPosition(d: Record<string, unknown>): string {
  return typeof d.lat === 'number' && typeof d.lon === 'number' ? `${d.lat.toFixed(5)},${d.lon.toFixed(5)}` : '(no position)'
}

function fmtTags(tags: unknown): string {
  return Object.entries((tags as Record<string, unknown>) ?? {})
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(' ')
}

/** The documents as `JSON.stringify(docs)` prints them, one at a time, and a line break. */
function* jsonArrayParts(versions: Iterable<Version>): Iterable<string> {
  let first = true
  for (const v of versions) {
    yield `${first ? '[' : ','}${JSON.stringify(toComapeoDoc(v))}`
    first = false
  }
  yield first ? '[]\n' : ']\n'
}

/** One line per document, or a hint when there are none. */
function* listLines(versions: Iterable<Version>): Iterable<string> {
  let any = false
  for (const v of versions) {
    const d = toComapeoDoc(v)
    any = true
    yield `${String(d.docId)}  ${String(d.updatedAt)}  ${fmtPosition(d)}  ${fmtTags(d.tags)}\n`
  }
  if (!any) yield 'No observations yet. Add one with `ferry add --lat N --lon N`, or sync with a file.\n'
}
