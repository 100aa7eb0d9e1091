import { pythonTool } from './python-tools';

const VERSION = '4.32.5';

/** The schemathesis CLI, installed from PyPI into .tools/schemathesis on first use. */
export const schemathesisCli = (): string =>
  pythonTool('schemathesis', `schemathesis==${VERSION}`, 'st');
