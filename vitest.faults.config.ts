import { defineConfig } from 'vitest/config'

// The fault suite (npm run test:faults): SIGKILLs, injected I/O errors, loop-mounted drives pulled mid-write, fuzz,
// salvage and soak. Counts come from the environment (FERRY_FAULT_KILLS, FERRY_FUZZ_CASES, FERRY_SOAK_CYCLES); the
// drive tests need root and Debian packages and skip with a reason without them (fail with
// FERRY_REQUIRE_SYSTEM_TESTS=1). Files run one at a time: the mount tests share loop devices and the kill test
// times the machine.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    // Builds dist/ first (the CLI a user runs); afterwards gathers the figures into test-artifacts/reliability.json.
    globalSetup: ['test/faults/lib/global-setup.ts'],
    testTimeout: 60 * 60_000,
    hookTimeout: 10 * 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
})
