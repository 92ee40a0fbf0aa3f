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
  moduleFileExtensions: ["ts", "js", "json"],
};
