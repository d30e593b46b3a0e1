// Describes the machine a benchmark ran on: CPU, cores, RAM, Node, OS, and the filesystem of the work folder.
import { execFileSync } from 'node:child_process'
import os from 'node:os'
import { hasGnuTime } from './run.mjs'

function tryExec(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return null
  }
}

export function describeMachine(workDir) {
  const cpus = os.cpus()
  const fsLine = tryExec('findmnt', ['-n', '-o', 'FSTYPE,SOURCE', '--target', workDir])
  const [fsType, fsSource] = fsLine ? fsLine.split(/\s+/) : [tryExec('stat', ['-f', '-c', '%T', workDir]), null]
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    ram_gb: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    filesystem: { dir: workDir, type: fsType ?? 'unknown', source: fsSource ?? null },
    peak_rss_from: hasGnuTime() ? 'GNU time %M' : null,
  }
}
