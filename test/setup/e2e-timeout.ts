// Tasks run real workflows; each test still awaits conditions, never fixed sleeps.
jest.setTimeout(90_000);
