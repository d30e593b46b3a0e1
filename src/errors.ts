/**
 * Every failure a user can cause or meet is a FerryError: one plain sentence saying what happened and what to do,
 * and the exit code of the CLI contract. Anything else reaching the top is a bug (exit 1).
 */
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  badInput: 2,
  otherProject: 3,
  damagedFile: 4,
  diskFailed: 5,
  /** Stopped by the user with Ctrl-C, after stopping cleanly: the shell's convention, 128 + SIGINT. */
  interrupted: 130,
  /** Stopped by SIGTERM (a logout, a service manager), after stopping cleanly: 128 + SIGTERM. */
  terminated: 143,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export type FerryErrorKind =
  | 'bad-input'
  | 'busy'
  | 'not-initialised'
  | 'other-project'
  | 'damaged'
  | 'newer-format'
  | 'forked-history'
  | 'disk-full'
  | 'too-large'
  | 'read-only'
  | 'drive-removed'
  | 'io'
  | 'interrupted'

const exitCodeOfKind: Record<FerryErrorKind, ExitCode> = {
  'bad-input': ExitCode.badInput,
  busy: ExitCode.badInput,
  'not-initialised': ExitCode.badInput,
  'other-project': ExitCode.otherProject,
  damaged: ExitCode.damagedFile,
  'newer-format': ExitCode.damagedFile,
  // Not damage, but a file this computer cannot sync with as it stands (merge/history-tips.ts): the same code.
  'forked-history': ExitCode.damagedFile,
  'disk-full': ExitCode.diskFailed,
  'too-large': ExitCode.diskFailed,
  'read-only': ExitCode.diskFailed,
  'drive-removed': ExitCode.diskFailed,
  io: ExitCode.diskFailed,
  interrupted: ExitCode.interrupted,
}

export class FerryError extends Error {
  readonly kind: FerryErrorKind
  readonly exitCode: ExitCode
  constructor(kind: FerryErrorKind, message: string, options?: { cause?: unknown; exitCode?: ExitCode }) {
    super(message, options)
    this.name = 'FerryError'
    this.kind = kind
    this.exitCode = options?.exitCode ?? exitCodeOfKind[kind]
  }
}

export const badInput = (message: string, cause?: unknown) => new FerryError('bad-input', message, { cause })
export const damaged = (message: string, cause?: unknown) => new FerryError('damaged', message, { cause })

/**
 * Turns an operating-system error met while reading or writing `path` into a plain FerryError (exit 5), so a pulled
 * drive or a full disk never surfaces as a stack trace. Errors that are already FerryErrors pass through.
 */
export function diskError(err: unknown, path: string, opts: { retry?: string; reading?: boolean } = {}): FerryError {
  if (err instanceof FerryError) return err
  const retry = opts.retry ?? 'sync again'

  const code = (err as NodeJS.ErrnoException | undefined)?.code
  switch (code) {
    // Mistakes in the path itself, never a failing drive.
    case 'ENOTDIR':
      return new FerryError('bad-input', `${path} cannot be reached: a part of that path is a file, not a folder. Check the path and try again.`, { cause: err })
    case 'ENAMETOOLONG':
      return new FerryError('bad-input', `The path ${path.slice(0, 60)}… is too long. Choose a shorter name or place.`, { cause: err })
    case 'ELOOP':
      return new FerryError('bad-input', `${path} cannot be reached: its links point round in a loop. Check the path and try again.`, { cause: err })
    case 'ENOSPC':
    case 'EDQUOT':
      return new FerryError('disk-full', `The disk holding ${path} is full. Free some space or use a bigger drive, then try again.`, { cause: err })
    case 'EFBIG':
      return new FerryError('too-large', `${path} would be larger than its filesystem allows. Use --media previews or a drive formatted as exFAT.`, { cause: err })
    case 'EACCES':
    case 'EPERM':
      // Only writes meet a read-only drive; a file that cannot even be opened to read is a matter of permissions.
      if (opts.reading) return new FerryError('read-only', `Ferry may not read ${path} (permission denied). Make the file readable to you, or copy it somewhere you can read it.`, { cause: err })
    // falls through
    case 'EROFS':
      return new FerryError('read-only', `Ferry cannot write to ${path} (the drive is read-only or the folder is protected). Unlock the drive or choose another place.`, { cause: err })
    case 'ENOENT':
    case 'ENODEV':
    case 'ENXIO':
    case 'ENOTCONN':
    case 'ECONNABORTED':
    case 'EIO':
    case 'ESTALE':
      return new FerryError('drive-removed', `The drive or disk holding ${path} stopped answering (was it removed?). Nothing was lost: plug it back in and ${retry}.`, { cause: err })
    default:
      return new FerryError('io', `Reading or writing ${path} failed (${code ?? 'unknown error'}). Nothing was lost: check the drive and ${retry}.`, { cause: err })
  }
}
