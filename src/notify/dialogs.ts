import { execFile, spawn } from 'node:child_process'

/**
 * The platform's "Save as…" dialog and "open this folder". A dialog that cannot be shown (no zenity/kdialog, no
 * display) answers 'unavailable' so the caller falls back to the outbox folder.
 */
export type SaveAnswer = { kind: 'chosen'; path: string } | { kind: 'cancelled' } | { kind: 'unavailable' }

interface DialogCommand {
  cmd: string
  args: string[]
}

export function saveDialogCommands(defaultPath: string, platform = process.platform): DialogCommand[] {
  if (platform === 'darwin') {
    const script = `POSIX path of (choose file name with prompt "Save the sync file" default name "${defaultPath.split('/').pop() ?? 'ferry.ferry'}")`
    return [{ cmd: 'osascript', args: ['-e', script] }]
  }
  if (platform === 'win32') {
    const ps = `Add-Type -AssemblyName System.Windows.Forms; $d = New-Object System.Windows.Forms.SaveFileDialog; $d.FileName = '${defaultPath.replace(/'/g, "''")}'; $d.Filter = 'Ferry sync file (*.ferry)|*.ferry'; if ($d.ShowDialog() -eq 'OK') { $d.FileName }`
    return [{ cmd: 'powershell.exe', args: ['-NoProfile', '-STA', '-Command', ps] }]
  }
  return [
    { cmd: 'zenity', args: ['--file-selection', '--save', '--confirm-overwrite', '--title=Save the sync file', `--filename=${defaultPath}`] },
    { cmd: 'kdialog', args: ['--getsavefilename', defaultPath, '*.ferry'] },
  ]
}

export async function saveAsDialog(defaultPath: string): Promise<SaveAnswer> {
  for (const { cmd, args } of saveDialogCommands(defaultPath)) {
    const answer = await new Promise<SaveAnswer>((resolve) => {
      execFile(cmd, args, { timeout: 10 * 60_000 }, (err, stdout) => {
        const code = (err as NodeJS.ErrnoException | null)?.code
        if (code === 'ENOENT') return resolve({ kind: 'unavailable' })
        // zenity/kdialog exit 1 on Cancel; anything else (no display…) counts as no dialog.
        if (err) return resolve((err as { code?: unknown }).code === 1 ? { kind: 'cancelled' } : { kind: 'unavailable' })
        const chosen = stdout.trim()
        resolve(chosen === '' ? { kind: 'cancelled' } : { kind: 'chosen', path: chosen })
      })
    })
    if (answer.kind !== 'unavailable') return answer
  }
  return { kind: 'unavailable' }
}

export function openFolder(dir: string): void {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer.exe' : 'xdg-open'
  const child = spawn(cmd, [dir], { detached: true, stdio: 'ignore' })
  child.on('error', () => undefined)
  child.unref()
}
