// STUB — being written now by the core author; signatures are final.
import type { StoreInfo } from './store-api.js'
export class Store {
  declare readonly info: StoreInfo
  /** Opens the data folder. Throws FerryError('not-initialised') when it holds no project (unless `create`). */
  static async open(_dataDir: string, _opts: { create?: boolean } = {}): Promise<Store> { throw new Error('stub') }
  /** Current, non-deleted observations. */
  countObservations(): number { throw new Error('stub') }
  /** Runs fn holding this data folder's writer lock; throws FerryError('busy') if another process holds it. */
  async exclusive<T>(_fn: () => Promise<T>): Promise<T> { throw new Error('stub') }
  async close(): Promise<void> { throw new Error('stub') }
}
/** Creates a new project in dataDir (fresh secret, new device key) and returns the opened store. */
export async function initProject(_dataDir: string, _name: string): Promise<Store> { throw new Error('stub') }
