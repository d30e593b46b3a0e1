import type { Logger } from 'pino'
import { FerryError } from '../errors.js'
import { createSyncFile, syncWithFile, syncWouldChange } from '../merge/merge.js'
import { isCompleteSyncFile, readSyncFileHeader } from '../syncfile/probe.js'
import { initProject, Store } from '../store/store.js'
import type { SyncEngine } from './engine.js'

/**
 * Opens the data folder's project, or creates one (named projectName) on a computer that has none, so the daemon
 * works on a fresh machine with nothing configured.
 */
export async function openRealEngine(dataDir: string, projectName: string, log: Logger): Promise<SyncEngine> {
  let store: Store
  try {
    store = await Store.open(dataDir)
  } catch (err) {
    if (!(err instanceof FerryError && err.kind === 'not-initialised')) throw err
    store = await initProject(dataDir, projectName)
    log.info({ dataDir, project: store.info.projectName }, `created a new project "${store.info.projectName}" in ${dataDir}`)
  }
  return {
    dataDir,
    project: { id: store.info.projectId, name: store.info.projectName },
    observations: () => store.countObservations(),
    readHeader: (file) => readSyncFileHeader(file),
    isComplete: (file) => isCompleteSyncFile(store, file),
    wouldChange: (file) => syncWouldChange(store, file),
    sync: (file, opts) => syncWithFile(store, file, opts),
    create: (file, opts) => createSyncFile(store, file, opts),
    close: () => store.close(),
  }
}
