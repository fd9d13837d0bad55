/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  transform: {
    "^.+\\.ts$": "ts-jest",
    // jose ships ESM only; jest's CommonJS runtime needs it transpiled.
    "node_modules/jose/.+\\.js$": ["ts-jest", { tsconfig: { allowJs: true } }],
  },
  transformIgnorePatterns: ["/node_modules/(?!jose/)"],
  // Starts the real servers (NATS, Kafka, MongoDB protocol) when they are not up yet.
  globalSetup: "<rootDir>/test/support/global-setup.ts",
  globalTeardown: "<rootDir>/test/support/global-teardown.ts",
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  moduleFileExtensions: ["ts", "js", "json"],
  // Integration and e2e suites start real servers; two workers on a two-core machine.
  maxWorkers: 2,
  testTimeout: 30000,
};
