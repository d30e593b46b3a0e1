import { inflateSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { trayIcon } from '../../src/notify/tray/icons.js'
import { applyView, buildMenu } from '../../src/notify/tray/menu.js'
import type { TrayActions, TrayView } from '../../src/notify/tray/tray.js'

function recordingActions() {
  const calls: string[] = []
  const actions: TrayActions = {
    createOnDrive: (d) => calls.push(`create ${d.label}`),
    saveAs: () => calls.push('save as'),
    createInOutbox: () => calls.push('outbox'),
    accept: (id) => calls.push(`accept ${id}`),
    openInbox: () => calls.push('open inbox'),
    setPaused: (p) => calls.push(`paused ${p}`),
    quit: () => calls.push('quit'),
  }
  return { calls, actions }
}

const view = (over: Partial<TrayView> = {}): TrayView => ({
  state: 'idle',
  statusLine: 'River monitors · 42 observations',
  tooltip: 'Ferry',
  drives: [],
  pending: [],
  paused: false,
  ...over,
})

describe('tray menu', () => {
  it('shows one Create entry per drive and one Sync entry per pending file, and they act on the right one', () => {
    const { calls, actions } = recordingActions()
    const menu = buildMenu(actions)
    applyView(
      menu,
      view({
        drives: [{ id: 'u1', label: 'KINGSTON', mountPoint: '/media/KINGSTON' }],
        pending: [{ id: 'p7', path: '/media/KINGSTON/field.ferry', drive: 'KINGSTON' }],
      }),
    )
    expect(menu.status.title).toBe('River monitors · 42 observations')
    const shownDrives = menu.driveSlots.filter((s) => !s.hidden)
    expect(shownDrives.map((s) => s.title)).toEqual(['On KINGSTON'])
    const shownPrompts = menu.promptSlots.filter((s) => !s.hidden)
    expect(shownPrompts.map((s) => s.title)).toEqual(['Sync with field.ferry on KINGSTON'])
    shownDrives[0]!.click!()
    shownPrompts[0]!.click!()
    menu.pause.click!()
    menu.quit.click!()
    expect(calls).toEqual(['create KINGSTON', 'accept p7', 'paused true', 'quit'])
  })

  it('reports only changed entries and hides slots no longer used', () => {
    const { actions } = recordingActions()
    const menu = buildMenu(actions)
    applyView(menu, view({ pending: [{ id: 'p1', path: '/inbox/a.ferry', drive: null }] }))
    expect(applyView(menu, view({ pending: [{ id: 'p1', path: '/inbox/a.ferry', drive: null }] }))).toEqual([])
    const changed = applyView(menu, view())
    expect(changed).toEqual([menu.promptSlots[0]])
    expect(menu.promptSlots[0]!.hidden).toBe(true)
  })

  it('draws a valid 22×22 RGBA PNG per state, each state a different colour', () => {
    const icons = (['idle', 'syncing', 'attention'] as const).map((s) => Buffer.from(trayIcon(s, 'linux'), 'base64'))
    for (const png of icons) {
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
      expect(png.readUInt32BE(16)).toBe(22)
      expect(png.readUInt32BE(20)).toBe(22)
      const idatLength = png.readUInt32BE(33)
      expect(inflateSync(png.subarray(41, 41 + idatLength)).length).toBe(22 * (1 + 22 * 4))
    }
    expect(new Set(icons.map((b) => b.toString('hex'))).size).toBe(3)
    expect(Buffer.from(trayIcon('idle', 'win32'), 'base64').readUInt16LE(2)).toBe(1) // ICO type "icon"
  })
})
