import { execFileSync } from 'node:child_process'

/** The system tests run dist/cli.js, as a user would: build it once before they start. */
export default function setup(): void {
  execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' })
}
