import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { badInput, diskError } from '../../errors.js'
import { checkOutputPath } from '../../fs/output-path.js'
import { readCategories, type CategorySet } from '../../project/categories.js'
import { rememberProject } from '../../project/known-projects.js'
import { readProjectInvite, writeProjectFile } from '../../project/project-file.js'
import { Store } from '../../store/store.js'
import { dataDirOf, output, withStore } from '../context.js'

export function registerProjectCommands(program: Command): void {
  program
    .command('init')
    .description('start a new project in the data folder, or join one from a .ferryproject or .mapeosettings file')
    .option('--name <name>', 'name of the new project', 'My field project')
    .option('--join <file>', 'join the project of a .ferryproject or Mapeo .mapeosettings file')
    .action(async (opts: { name: string; join?: string }, command: Command) => {
      const dataDir = dataDirOf(command)
      const invite = opts.join ? await readProjectInvite(opts.join) : undefined
      const store = await Store.create(dataDir, invite ? { name: invite.name, secret: invite.secret } : { name: projectName(opts.name) })
      try {
        rememberProject(store.info.projectId, store.info.projectName)
        const info = { ...store.info, joined: Boolean(invite) }
        output(command, info, () =>
          [
            `${invite ? 'Joined' : 'Started'} project “${info.projectName}” (id ${info.projectId.slice(0, 12)}…).`,
            `Data folder: ${dataDir}`,
            invite ? 'Sync with a file from a teammate: ferry sync FILE' : 'Invite a teammate: ferry project export team.ferryproject',
          ].join('\n'),
        )
      } finally {
        await store.close()
      }
    })

  const project = program.command('project').description('show or export this project')
  project
    .command('show')
    .description('the project, this device, and how much data is here')
    .action(async (_opts, command: Command) => {
      await withStore(command, async (store) => {
        const categories = store.getMeta<CategorySet>('categories')
        const data = {
          id: store.info.projectId,
          name: store.info.projectName,
          deviceId: store.info.deviceId,
          observations: store.countObservations(),
          categories: categories?.categories.length ?? 0,
        }
        output(command, data, () =>
          [`Project:      ${data.name}`, `Project id:   ${data.id}`, `This device:  ${data.deviceId}`, `Observations: ${data.observations}`, `Categories:   ${data.categories}${categories ? ` (from ${categories.name})` : ''}`, `Data folder:  ${store.dataDir}`].join('\n'),
        )
      })
    })
  project
    .command('export')
    .description('write a .ferryproject file that lets another computer join this project (keep it private)')
    .argument('<file>', 'where to write it, e.g. team.ferryproject')
    .action(async (file: string, _opts, command: Command) => {
      if (file === '-') throw badInput('A project file cannot go to standard output (it holds the project key). Give a file name, such as team.ferryproject.')
      checkOutputPath(file, { example: 'team.ferryproject', dataDir: dataDirOf(command) })
      await withStore(command, async (store) => {
        try {
          writeProjectFile(file, { name: store.info.projectName, secret: store.projectSecret, id: store.info.projectId })
        } catch (err) {
          throw diskError(err, file)
        }
        output(command, { file, projectId: store.info.projectId }, () => `Wrote ${file}. Anyone with this file can join “${store.info.projectName}” and read its sync files: share it only with your team.`)
      })
    })

  const config = program.command('config').description('categories and fields')
  config
    .command('import')
    .description('use the categories and fields of a CoMapeo .comapeocat file')
    .argument('<file>', 'a .comapeocat file')
    .action(async (file: string, _opts, command: Command) => {
      if (!existsSync(file)) throw badInput(`There is no file at ${file}. Check the name and try again.`)
      await withStore(command, async (store) => {
        const categories = await readCategories(file)
        await store.exclusive(() => store.putMeta('categories', categories))
        output(command, { file: path.resolve(file), name: categories.name, categories: categories.categories.length, fields: categories.fields.length }, () => `Imported ${categories.categories.length} categories and ${categories.fields.length} fields from “${categories.name}”.`)
      })
    })
}

/** A project name as given to `init --name`: something to show, on one line. */
function projectName(given: string): string {
  const name = given.trim()
  if (name === '') throw badInput('--name is empty. Give the project a name, such as --name "River monitoring".')
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) throw badInput('--name holds control characters (a line break, say). Give a name on one line.')
  return name
}
