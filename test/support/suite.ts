import { TestApi } from './api';
import { TemporalObserver } from './temporal';

/**
 * The set-up most e2e suites share: an API in this process and an observer of Temporal's side,
 * started before the suite's tests (handed to `use`) and closed after them.
 */
export function withApiAndTemporal(use: (api: TestApi, temporal: TemporalObserver) => void): void {
  let api: TestApi | undefined;
  let temporal: TemporalObserver | undefined;
  beforeAll(async () => {
    api = await TestApi.start();
    temporal = await TemporalObserver.connect();
    use(api, temporal);
  });
  afterAll(async () => {
    await api?.close();
    await temporal?.close();
  });
}
