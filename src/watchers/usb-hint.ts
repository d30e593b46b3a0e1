import type { Logger } from 'pino'

/**
 * usb-detection as an optional hint: a USB device arriving or leaving triggers a rescan at once, instead of at the
 * next poll (a drive is mounted a moment after its device appears, so the poll still catches the mount). Missing
 * module, no libudev or no USB bus: the poll alone does the job.
 */
export interface UsbHint {
  stop(): void
}

interface UsbDetection {
  startMonitoring(): void
  stopMonitoring(): void
  on(event: 'add' | 'remove', listener: () => void): void
}

export async function startUsbHint(onHint: () => void, log: Logger): Promise<UsbHint | null> {
  try {
    const mod = (await import('usb-detection' as string)) as { default?: UsbDetection } & UsbDetection
    const usb = mod.default ?? mod
    usb.startMonitoring()
    // The mount follows the device after a second or two; ask again a little later too.
    const hint = () => {
      onHint()
      setTimeout(onHint, 1500).unref()
    }
    usb.on('add', hint)
    usb.on('remove', hint)
    // usb-detection keeps the event loop alive until stopMonitoring(): stop() must always be called.
    return { stop: () => usb.stopMonitoring() }
  } catch (err) {
    log.info({ reason: (err as Error).message }, 'usb-detection is not available; watching mounts only')
    return null
  }
}
