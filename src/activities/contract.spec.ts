import {
  ApplicationFailure,
  CancelledFailure,
  Context,
  asyncLocalStorage,
} from '@temporalio/activity';
import type { Info } from '@temporalio/activity';
import type { TaskInput } from '../workflows/contract';
import { PhaseContext, TaskExecutor, createTaskActivities } from './contract';

const task: TaskInput = {
  query: 'q',
  session_id: 's',
  tenant_id: 't',
  user_id: 'u',
  context: {},
};

/** Runs `fn` as the activity of task `task-1` would run, recording its heartbeats. */
function inActivity<T>(fn: () => Promise<T>, abort = new AbortController()) {
  const heartbeats: unknown[] = [];
  const info = {
    workflowExecution: { workflowId: 'task-1', runId: 'run-1' },
    attempt: 3,
  } as unknown as Info;
  const context = new Context(
    info,
    new Promise<never>(() => undefined),
    abort.signal,
    (details?: unknown) => heartbeats.push(details),
    undefined,
    undefined as never,
    undefined as never,
    undefined as never,
  );
  return { heartbeats, result: asyncLocalStorage.run(context, fn) };
}

/** An executor whose calls record their context and answer as told. */
function executor(answers: Partial<Record<'plan' | 'step' | 'synthesize', unknown>> = {}) {
  const seen: { input: unknown; ctx: PhaseContext }[] = [];
  const exec: TaskExecutor = {
    plan: (input, ctx) => {
      seen.push({ input, ctx });
      return Promise.resolve((answers.plan ?? { steps: ['a', 'b'] }) as never);
    },
    runStep: (input, ctx) => {
      seen.push({ input, ctx });
      ctx.partialOutput('so far');
      return Promise.resolve((answers.step ?? { output: 'out', usage: undefined }) as never);
    },
    synthesize: (input, ctx) => {
      seen.push({ input, ctx });
      return Promise.resolve((answers.synthesize ?? { result: 'done' }) as never);
    },
  };
  return { exec, seen };
}

describe('createTaskActivities', () => {
  it('answers workflow code from before result objects with plain values', async () => {
    const activities = createTaskActivities(executor().exec);
    const step = { task, step: 1, total: 2, description: 'd' };
    expect(await inActivity(() => activities.planTask(task)).result).toEqual(['a', 'b']);
    expect(await inActivity(() => activities.runStep(step)).result).toBe('out');
    expect(await inActivity(() => activities.synthesizeResult({ task, outputs: [] })).result).toBe(
      'done',
    );
  });

  it('answers with result objects when asked, giving the executor its call context', async () => {
    const { exec, seen } = executor({ plan: { steps: ['a'], provider: 'p', model: 'm' } });
    const activities = createTaskActivities(exec);
    const plan = inActivity(() => activities.planTask({ ...task, result_version: 2 }));
    expect(await plan.result).toEqual({ steps: ['a'], provider: 'p', model: 'm' });
    const step = inActivity(() =>
      activities.runStep({ task, step: 2, total: 2, description: 'd', result_version: 2 }),
    );
    expect(await step.result).toEqual({ output: 'out', usage: undefined });

    // The executor never sees result_version; a step scheduled without previous outputs gets [].
    expect(seen.map((s) => s.input)).toEqual([
      task,
      { task, step: 2, total: 2, description: 'd', previous_outputs: [] },
    ]);
    expect(seen.map(({ ctx }) => [ctx.taskId, ctx.phase, ctx.attempt, ctx.idempotencyKey])).toEqual(
      [
        ['task-1', 'plan', 3, 'task-1:plan:0'],
        ['task-1', 'step', 3, 'task-1:step:2'],
      ],
    );
    expect(seen[0].ctx.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // A step's partial text goes out as its heartbeat at once.
    expect(step.heartbeats).toEqual([{ step: 2, text: 'so far' }]);
  });

  it('tells the worker once per call when a step starts streaming text, and never for a step that streams none', async () => {
    const streaming: string[] = [];
    const talkative: TaskExecutor = {
      ...executor().exec,
      plan: (_task, ctx) => {
        ctx.partialOutput('planning'); // not a step: no live text, no notice
        return Promise.resolve({ steps: ['a'] });
      },
      runStep: (_input, ctx) => {
        ctx.partialOutput('');
        ctx.partialOutput('Hel');
        ctx.partialOutput('Hello');
        return Promise.resolve({ output: 'Hello' });
      },
    };
    const activities = createTaskActivities(talkative, {
      streaming: (taskId) => streaming.push(taskId),
    });
    const step = { task, step: 1, total: 1, description: 'd', result_version: 2 };
    await inActivity(() => activities.planTask(task)).result;
    const call = inActivity(() => activities.runStep(step));
    await call.result;
    expect(streaming).toEqual(['task-1']);
    expect(call.heartbeats).toEqual([
      { step: 1, text: '' },
      { step: 1, text: 'Hel' },
      { step: 1, text: 'Hello' },
    ]);

    // A retry (a new call) says so again; a step that streams nothing never does.
    await inActivity(() => activities.runStep(step)).result;
    const silent = createTaskActivities(
      { ...talkative, runStep: () => Promise.resolve({ output: 'o' }) },
      { streaming: (taskId) => streaming.push(`silent ${taskId}`) },
    );
    await inActivity(() => silent.runStep(step)).result;
    expect(streaming).toEqual(['task-1', 'task-1']);
  });

  it('ends the task on a result that breaks the contract, and on errors marked nonRetryable', async () => {
    const bad = createTaskActivities(executor({ plan: { steps: [] } }).exec);
    await expect(inActivity(() => bad.planTask(task)).result).rejects.toMatchObject({
      message: "The executor's plan returned no { steps } with 1 to 50 strings",
      nonRetryable: true,
    });

    const refusing: TaskExecutor = {
      ...executor().exec,
      plan: () =>
        Promise.reject(Object.assign(new TypeError('no such customer'), { nonRetryable: true })),
    };
    const failure = await inActivity(() =>
      createTaskActivities(refusing).planTask(task),
    ).result.catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      message: 'no such customer',
      type: 'TypeError',
      nonRetryable: true,
    });
  });

  it('reports a call stopped by cancellation as cancelled, whatever the call threw', async () => {
    const abort = new AbortController();
    const stuck: TaskExecutor = {
      ...executor().exec,
      plan: (_task, ctx) =>
        new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(new Error('socket hang up'))),
        ),
    };
    const call = inActivity(() => createTaskActivities(stuck).planTask(task), abort);
    abort.abort(new CancelledFailure('CANCELLED'));
    await expect(call.result).rejects.toBeInstanceOf(CancelledFailure);
  });
});
