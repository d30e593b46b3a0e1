import path from 'node:path'
import { ferryOk } from './cli.js'

/** Two or more data folders in one project, as the seed's computers 1 and 2: the first starts it, the rest join. */
export function makeDevices(root: string, count: number, name = 'River monitoring'): string[] {
  const dirs = Array.from({ length: count }, (_, i) => path.join(root, `computer${i + 1}`))
  ferryOk(['--data-dir', dirs[0]!, 'init', '--name', name])
  const invite = path.join(root, 'team.ferryproject')
  ferryOk(['--data-dir', dirs[0]!, 'project', 'export', invite])
  for (const dir of dirs.slice(1)) ferryOk(['--data-dir', dir, 'init', '--join', invite])
  return dirs
}
