// Shared with the unit specs, which may not import from test/: the helper lives in src/testing.
export { waitFor } from '../../src/testing/wait';
