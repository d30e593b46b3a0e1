// Generates benchmark data shaped like real field data: CoMapeo observation documents (tags, metadata with a GPS
// position and its provider, photo/video attachments by SHA-256) and media files named by their SHA-256 hex.
// Media content is random bytes, streamed to disk in chunks so a 1 GB video never sits in memory.
import { createHash, randomFillSync } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rename, stat, writeFile } from 'node:fs/promises'
import { once } from 'node:events'
import { join } from 'node:path'

const CHUNK = 4 * 1024 * 1024

/** A small seeded PRNG (mulberry32) so every run generates the same observations. */
export function makeRng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const pick = (rng, list) => list[Math.floor(rng() * list.length)]
const hex32 = (label) => createHash('sha256').update(label).digest('hex')

/** Writes `size` random bytes to DIR/<sha256 hex>; returns { hash, size }. */
export async function writeRandomMedia(dir, size, tmpName) {
  await mkdir(dir, { recursive: true })
  const tmp = join(dir, `.${tmpName}.tmp`)
  const out = createWriteStream(tmp)
  const hash = createHash('sha256')
  let left = size
  while (left > 0) {
    const n = Math.min(CHUNK, left)
    const buf = randomFillSync(Buffer.allocUnsafe(n))
    hash.update(buf)
    if (!out.write(buf)) await once(out, 'drain')
    left -= n
  }
  out.end()
  await once(out, 'finish')
  const hex = hash.digest('hex')
  await rename(tmp, join(dir, hex))
  return { hash: hex, size }
}

let sharpModule
/** sharp if it can be loaded (Ferry uses it for previews), else null. */
async function loadSharp() {
  if (sharpModule === undefined) sharpModule = await import('sharp').then((m) => m.default).catch(() => null)
  return sharpModule
}

/**
 * A photo Ferry can decode (so it makes its preview and thumbnail, as for a real one) of exactly `size` bytes:
 * a 1600×1200 JPEG of smooth random colour (~400 KB, every one different), followed by random bytes up to `size`
 * (JPEG readers stop at the end-of-image marker). Returns null when sharp is not available.
 */
export async function writeJpegMedia(dir, size, tmpName) {
  const sharp = await loadSharp()
  if (!sharp) return null
  const raw = randomFillSync(Buffer.alloc(160 * 120 * 3))
  const jpeg = await sharp(raw, { raw: { width: 160, height: 120, channels: 3 } }).resize(1600, 1200).jpeg({ quality: 85 }).toBuffer()
  if (jpeg.length > size) return null
  const bytes = Buffer.concat([jpeg, randomFillSync(Buffer.alloc(size - jpeg.length))])
  await mkdir(dir, { recursive: true })
  const hash = createHash('sha256').update(bytes).digest('hex')
  const tmp = join(dir, `.${tmpName}.tmp`)
  await writeFile(tmp, bytes)
  await rename(tmp, join(dir, hash))
  return { hash, size }
}

/**
 * Generates `count` media files of `size` bytes in DIR, reporting progress. Photos are decodable JPEGs when
 * `jpeg` is set and sharp loads; everything else (and videos) is random bytes, streamed.
 */
export async function generateMedia(dir, { count, size, type, label, onProgress, jpeg = false }) {
  const media = []
  for (let i = 0; i < count; i++) {
    const m = (jpeg && type === 'photo' ? await writeJpegMedia(dir, size, `${label}-${i}`) : null) ?? (await writeRandomMedia(dir, size, `${label}-${i}`))
    media.push({ ...m, type })
    if (onProgress) onProgress(i + 1, count)
  }
  return media
}

const CATEGORIES = {
  animal: { 'animal-type': ['jaguar', 'tapir', 'peccary', 'macaw', 'caiman', 'river otter'] },
  threat: { 'threat-type': ['logging', 'mining', 'fire', 'road', 'hunting', 'fishing'] },
  water: { 'water-source': ['river', 'stream', 'spring', 'lake', 'well'] },
  'community-place': { 'place-type': ['school', 'clinic', 'meeting house', 'landing strip', 'cemetery'] },
  plant: { 'plant-use': ['medicine', 'food', 'construction', 'craft'] },
}
const IMPACTS = ['deforestation', 'contamination', 'noise', 'erosion', 'invasion', 'burning']
const WORDS = ('seen near the river bank at dawn tracks fresh old large small group of people machinery ' +
  'smoke cut trees path new boundary marker sign camp boat motor heard reported by community members ' +
  'photo taken from the ridge water colour changed fish dead along the shore').split(' ')
const DEVICES = ['Samsung Galaxy A12', 'Motorola moto g(9)', 'Xiaomi Redmi 9A', 'Nokia 2.3']

function sentence(rng, min, max) {
  const n = min + Math.floor(rng() * (max - min + 1))
  const words = []
  for (let i = 0; i < n; i++) words.push(pick(rng, WORDS))
  const s = words.join(' ')
  return s[0].toUpperCase() + s.slice(1) + '.'
}

function position(rng, lat, lon, at) {
  return {
    timestamp: at,
    mocked: false,
    coords: {
      latitude: lat,
      longitude: lon,
      altitude: Math.round((80 + rng() * 400) * 10) / 10,
      altitudeAccuracy: Math.round((3 + rng() * 20) * 10) / 10,
      heading: Math.round(rng() * 3600) / 10,
      speed: Math.round(rng() * 20) / 10,
      accuracy: Math.round((2 + rng() * 25) * 10) / 10,
    },
  }
}

/**
 * One CoMapeo observation document. `index` makes the docId unique within `label`; `attached` is the list of
 * media ({hash, size, type}) this observation points at.
 */
export function makeObservation(rng, { label, index, attached }) {
  const deviceKey = hex32(`bench-device-${label}`)
  const docId = hex32(`bench-doc-${label}-${index}`)
  const versionId = `${deviceKey}/${index}`
  const created = new Date(Date.UTC(2023, 0, 1) + Math.floor(rng() * 3 * 365 * 86400e3))
  const updated = new Date(created.getTime() + Math.floor(rng() * 30 * 86400e3))
  const createdAt = created.toISOString()
  const lat = Math.round((-3.5 + rng() * 2) * 1e6) / 1e6
  const lon = Math.round((-62 + rng() * 3) * 1e6) / 1e6
  const category = pick(rng, Object.keys(CATEGORIES))
  const [field, values] = Object.entries(CATEGORIES[category])[0]
  const tags = {
    type: category,
    categoryId: category,
    [field]: pick(rng, values),
    notes: sentence(rng, 6, 30),
    impacts: IMPACTS.filter(() => rng() < 0.35),
    'people-count': Math.floor(rng() * 12),
    'reported-by': pick(rng, ['monitor team A', 'monitor team B', 'community guard', 'school group']),
    verified: rng() < 0.5,
  }
  const attachments = attached.map((m, k) => {
    const common = {
      driveDiscoveryId: deviceKey,
      name: hex32(`bench-attachment-${label}-${index}-${k}`).slice(0, 32),
      type: m.type,
      hash: m.hash,
      createdAt,
      position: position(rng, lat, lon, createdAt),
      external: false,
    }
    if (m.type !== 'photo') return common
    return {
      ...common,
      photoExif: {
        ImageWidth: 4000,
        ImageLength: 3000,
        Make: 'samsung',
        Model: pick(rng, DEVICES),
        Orientation: 1,
        ISOSpeedRatings: pick(rng, [50, 100, 200, 400]),
        FNumber: 1.8,
        ExposureTime: pick(rng, [0.001, 0.004, 0.01, 0.033]),
        FocalLength: 4.6,
        Flash: 0,
      },
    }
  })
  return {
    docId,
    versionId,
    originalVersionId: versionId,
    schemaName: 'observation',
    createdAt,
    updatedAt: updated.toISOString(),
    links: [],
    deleted: false,
    lat,
    lon,
    attachments,
    tags,
    metadata: {
      manualLocation: false,
      position: position(rng, lat, lon, createdAt),
      lastSavedPosition: position(rng, lat, lon, createdAt),
      positionProvider: {
        gpsAvailable: true,
        passiveAvailable: rng() < 0.5,
        locationServicesEnabled: true,
        networkAvailable: rng() < 0.3,
      },
    },
  }
}

/**
 * Streams a JSON array of `count` observations (indices `start`…) to FILE. Media are spread over the first
 * observations, one each, so every media file is referenced exactly once. Returns the file's size in bytes.
 */
export async function writeObservations(file, { label, start = 0, count, media = [], seed = 1 }) {
  const rng = makeRng(seed + start)
  const out = createWriteStream(file)
  const write = async (s) => {
    if (!out.write(s)) await once(out, 'drain')
  }
  await write('[\n')
  for (let i = 0; i < count; i++) {
    const attached = i < media.length ? [media[i]] : []
    const doc = makeObservation(rng, { label, index: start + i, attached })
    await write((i ? ',\n' : '') + JSON.stringify(doc))
  }
  await write('\n]\n')
  out.end()
  await once(out, 'finish')
  return (await stat(file)).size
}
