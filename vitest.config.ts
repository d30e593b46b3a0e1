import { defineConfig } from 'vitest/config'

// Unit, property and end-to-end tests. System tests (real X server, D-Bus, loop mounts) and the fault suite
// have their own configs because they need root and Debian packages.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/system/**', 'test/faults/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
