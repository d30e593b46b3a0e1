import { defineConfig } from 'vitest/config'

// System tests: the real daemon with real parts (Xvfb, a private D-Bus, dunst, trayer, loop-mounted ext4 and exFAT
// images). They need root and Debian packages (.ci/run installs them), share mounts and displays, and so run one
// file at a time with long timeouts. global-setup builds dist/ so they test the CLI a user runs.
export default defineConfig({
  test: {
    include: ['test/system/**/*.test.ts'],
    globalSetup: ['test/system/harness/global-setup.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
})
