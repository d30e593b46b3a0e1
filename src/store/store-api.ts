/** The parts of the store the daemon and the CLI see. The implementation is src/store/store.ts. */
export interface StoreInfo {
  dataDir: string
  projectId: string
  projectName: string
  deviceId: string
}
