// Types are checked once by `tsc --noEmit` (see `npm test`). ts-jest only transpiles, file by
// file (tsconfig `isolatedModules`), which keeps the suite fast.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/tsconfig.json", diagnostics: false }],
  },
  setupFilesAfterEnv: ["<rootDir>/test/helpers-jest-setup.ts"],
  // One worker per core the machine has: the slow suites mostly wait on child processes
  // (Terraform, Squid, the main job), and jest's default (cores - 1) would run them one after
  // another on two cores.
  maxWorkers: require("node:os").availableParallelism(),
  moduleFileExtensions: ["ts", "js", "json"],
  // The package's own name, as examples/consumer-app imports it, is its source here (tsconfig
  // `paths` does the same for tsc and tsx).
  moduleNameMapper: { "^egresslink$": "<rootDir>/modules/index.ts" },
};
