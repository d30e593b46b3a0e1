import { crc32, deflateSync } from 'node:zlib'

/**
 * Tray icons drawn in code (a filled disc per state) so no binary assets need shipping: PNG for Linux and macOS,
 * the same PNG wrapped in an ICO container for Windows. Returned as base64, which systray2 accepts in place of a path.
 */
export type TrayIconState = 'idle' | 'syncing' | 'attention'

const COLOURS: Record<TrayIconState, [number, number, number]> = {
  idle: [46, 125, 50], // green: nothing to do
  syncing: [21, 101, 192], // blue: working
  attention: [239, 108, 0], // orange: a question is waiting
}

const SIZE = 22

export function trayIcon(state: TrayIconState, platform = process.platform): string {
  const png = discPng(COLOURS[state])
  return (platform === 'win32' ? icoFromPng(png) : png).toString('base64')
}

function discPng([r, g, b]: [number, number, number]): Buffer {
  const rows: Buffer[] = []
  const c = (SIZE - 1) / 2
  for (let y = 0; y < SIZE; y++) {
    const row = Buffer.alloc(1 + SIZE * 4) // filter byte 0, then RGBA
    for (let x = 0; x < SIZE; x++) {
      const d = Math.hypot(x - c, y - c)
      const inside = d <= c - 0.5
      const ring = d > c - 3 && inside
      const o = 1 + x * 4
      row[o] = ring ? 255 : r
      row[o + 1] = ring ? 255 : g
      row[o + 2] = ring ? 255 : b
      row[o + 3] = inside ? 255 : 0
    }
    rows.push(row)
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(SIZE, 0)
  header.writeUInt32BE(SIZE, 4)
  header[8] = 8 // bit depth
  header[9] = 6 // colour type RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([len, body, crc])
}

/** An ICO holding one PNG image (supported since Windows Vista). */
function icoFromPng(png: Buffer): Buffer {
  const header = Buffer.alloc(22)
  header.writeUInt16LE(0, 0)
  header.writeUInt16LE(1, 2) // type: icon
  header.writeUInt16LE(1, 4) // one image
  header[6] = SIZE
  header[7] = SIZE
  header.writeUInt16LE(1, 10) // planes
  header.writeUInt16LE(32, 12) // bits per pixel
  header.writeUInt32LE(png.length, 14)
  header.writeUInt32LE(22, 18)
  return Buffer.concat([header, png])
}
