/**
 * `npm run test:cluster`: the contract suites again, and the cluster's own fault specs, against
 * one `npm run start:cluster` (PostgreSQL, a Temporal server built from Go modules, workers and
 * API instances behind HAProxy). One spec at a time: the fault specs stop parts of the cluster.
 */
const { projects, reporters } = require('./jest.config.js');

const e2e = projects.find((project) => project.displayName === 'e2e');
const CONTRACT_SPECS = [
  'tasks',
  'control',
  'resume',
  'events',
  'setup-checks',
  'versions',
  'audit',
  'deadlines',
  'batches',
  'list',
  'decisions',
];

module.exports = {
  ...e2e,
  displayName: 'cluster',
  testMatch: [
    ...CONTRACT_SPECS.map((name) => `<rootDir>/test/${name}.e2e-spec.ts`),
    '<rootDir>/test/cluster/**/*.e2e-spec.ts',
  ],
  testPathIgnorePatterns: [],
  globalSetup: '<rootDir>/test/setup/cluster-global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/cluster-global-teardown.ts',
  maxWorkers: 1,
  reporters,
};
