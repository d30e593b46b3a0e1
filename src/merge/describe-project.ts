import { knownProjectName } from '../project/known-projects.js'

/** "project 1a2b3c4d… (“River monitoring”)" — the id always, the name when this user has met the project. */
export function describeProject(projectId: Buffer): string {
  const id = projectId.toString('hex')
  const name = knownProjectName(id)
  return name ? `“${name}”, project id ${id.slice(0, 12)}…` : `project id ${id.slice(0, 12)}…`
}
