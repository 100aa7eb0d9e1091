import type { ExecutorConfig } from '../config/app-config';
import type { TaskExecutor } from './contract';
import { HttpExecutor } from './http.executor';
import { loadModuleExecutor } from './module.executor';
import { OpenAiExecutor } from './openai.executor';
import { SimulatedExecutor } from './simulated.executor';

/** The executor `TASK_EXECUTOR` names, built from its validated configuration. */
export async function createExecutor(config: ExecutorConfig): Promise<TaskExecutor> {
  switch (config.kind) {
    case 'simulated':
      return new SimulatedExecutor();
    case 'http':
      return new HttpExecutor(config);
    case 'openai':
      return new OpenAiExecutor(config);
    case 'module':
      return loadModuleExecutor(config.path);
  }
}
