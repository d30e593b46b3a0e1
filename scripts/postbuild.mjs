// Makes dist/cli.js executable so `ferry` works once installed globally or linked.
import { chmodSync } from 'node:fs'
chmodSync(new URL('../dist/cli.js', import.meta.url), 0o755)
