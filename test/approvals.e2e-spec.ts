/**
 * Approval gates on the real stack: a gated checkpoint waits for a decision sent to Shannon's
 * route; approve and reject end as documented; 404, 409 and 400 cases; a request's timeout;
 * pause while waiting; the decision in the events and the audit trail; Shannon's own Python
 * SDK approving unchanged.
 */
import { TestApi } from './support/api';
import { KEYS } from './support/keys';
import { runWithShannonSdk } from './support/shannon-sdk';
import { waitFor } from './support/wait';
import { expectEventsAtEveryOffset } from './support/event-offsets';
import { TemporalObserver } from './support/temporal';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe('Approval gates', () => {
  let api: TestApi;
  let temporal: TemporalObserver;

  beforeAll(async () => {
    api = await TestApi.start();
    temporal = await TemporalObserver.connect();
  });

  afterAll(async () => {
    await api?.close();
    await temporal?.close();
  });

  const submit = async (approval: unknown, context = { steps: 2, step_duration_ms: 50 }) => {
    const res = await api.request('POST', '/api/v1/tasks', {
      json: { query: 'Summarize the quarterly report', context, approval },
    });
    expect(res.status).toBe(200);
    return res.body.task_id as string;
  };
  const controlState = async (taskId: string) =>
    (await api.request('GET', `/api/v1/tasks/${taskId}/control-state`)).body;
  /** Resolves with the pending approval once the task waits for one. */
  const pendingApproval = (taskId: string) =>
    waitFor(
      `${taskId} to wait for approval`,
      async () => (await controlState(taskId)).pending_approval ?? undefined,
    );
  const decide = (body: Record<string, unknown>, key?: string) =>
    api.request('POST', '/api/v1/approvals/decision', { json: body, key });
  const approvals = async (taskId: string) => {
    const res = await api.request('GET', `/api/v1/tasks/${taskId}/approvals`);
    expect(res.status).toBe(200);
    return res.body.approvals as any[];
  };
  const events = async (taskId: string, types: string[]) => {
    const res = await api.request('GET', `/api/v1/tasks/${taskId}/events?limit=200`);
    return (res.body.events as any[]).filter((e) => types.includes(e.type));
  };
  const actions = async (taskId: string) =>
    ((await api.request('GET', `/api/v1/tasks/${taskId}/actions`)).body.actions as any[]).filter(
      (a) => a.action === 'approve' || a.action === 'reject',
    );
  const runIdOf = async (taskId: string): Promise<string> => {
    const { TemporalObserver } = await import('./support/temporal');
    const temporal = await TemporalObserver.connect();
    try {
      const history = await temporal.history(taskId);
      return history[0].workflowExecutionStartedEventAttributes!.originalExecutionRunId!;
    } finally {
      await temporal.close();
    }
  };

  it('waits RUNNING at the gate, goes on when approved, and records the decision everywhere', async () => {
    const taskId = await submit({ checkpoints: ['pre_synthesis'] });
    const pending = await pendingApproval(taskId);
    const approvalId = `apr_${taskId}_pre_synthesis`;
    expect(pending).toEqual({
      approval_id: approvalId,
      checkpoint: 'pre_synthesis',
      requested_at: expect.stringMatching(RFC3339),
    });
    expect(await api.status(taskId)).toBe('TASK_STATUS_RUNNING');
    expect(await events(taskId, ['APPROVAL_REQUESTED'])).toEqual([
      {
        workflow_id: taskId,
        type: 'APPROVAL_REQUESTED',
        message: 'Approval requested at pre_synthesis',
        timestamp: expect.stringMatching(RFC3339),
        seq: expect.any(Number),
        approval_id: approvalId,
        checkpoint: 'pre_synthesis',
      },
    ]);

    const res = await decide({
      workflow_id: taskId,
      approval_id: approvalId,
      approved: true,
      feedback: 'Looks good',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'sent',
      success: true,
      message: 'Approval decision sent',
      workflow_id: taskId,
      run_id: await runIdOf(taskId),
      approval_id: approvalId,
    });
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');

    const decided = await approvals(taskId);
    expect(decided).toEqual([
      {
        approval_id: approvalId,
        checkpoint: 'pre_synthesis',
        state: 'approved',
        requested_at: pending.requested_at,
        decided_at: expect.stringMatching(RFC3339),
        decided_by: 'alice',
        feedback: 'Looks good',
      },
    ]);
    expect((await controlState(taskId)).pending_approval).toBeNull();
    const [requested, decision] = await events(taskId, ['APPROVAL_REQUESTED', 'APPROVAL_DECISION']);
    expect(decision).toEqual({
      workflow_id: taskId,
      type: 'APPROVAL_DECISION',
      message: 'Approved',
      timestamp: expect.stringMatching(RFC3339),
      seq: expect.any(Number),
      approval_id: approvalId,
      checkpoint: 'pre_synthesis',
      approved: true,
      decided_by: 'alice',
      feedback: 'Looks good',
    });
    expect(decision.seq).toBeGreaterThan(requested.seq);
    expect(await actions(taskId)).toEqual([
      {
        action: 'approve',
        actor: 'alice',
        key_name: 'acme-writer',
        reason: 'Looks good',
        at: decided[0].decided_at,
        request_id: res.headers.get('x-request-id'),
        trace_id: res.headers.get('traceparent')!.split('-')[1],
        approval_id: approvalId,
      },
    ]);
    // Decided already: the same or the opposite decision is refused.
    for (const approved of [true, false]) {
      const again = await decide({ workflow_id: taskId, approval_id: approvalId, approved });
      expect({ status: again.status, body: again.body }).toEqual({
        status: 409,
        body: { error: 'approval already decided' },
      });
    }
    await expectEventsAtEveryOffset(api, temporal, taskId);
  });

  it('ends CANCELLED with the feedback when rejected, and refuses a second decision at once', async () => {
    const taskId = await submit({ checkpoints: ['pre_step_1'] });
    const { approval_id: approvalId } = await pendingApproval(taskId);
    const res = await decide({
      workflow_id: taskId,
      approval_id: approvalId,
      approved: false,
      feedback: 'Wrong quarter',
    });
    expect(res.status).toBe(200);
    // Exact before any worker has applied it.
    const again = await decide({ workflow_id: taskId, approval_id: approvalId, approved: true });
    expect({ status: again.status, body: again.body }).toEqual({
      status: 409,
      body: { error: 'approval already decided' },
    });
    await api.waitForStatus(taskId, 'TASK_STATUS_CANCELLED');
    expect(await controlState(taskId)).toEqual({
      is_paused: false,
      is_cancelled: true,
      paused_at: '',
      pause_reason: '',
      paused_by: '',
      cancel_reason: 'approval rejected: Wrong quarter',
      cancelled_by: 'alice',
      pause_deadline: '',
      on_timeout: '',
      pending_approval: null,
    });
    const decided = await approvals(taskId);
    expect(decided).toEqual([
      {
        approval_id: approvalId,
        checkpoint: 'pre_step_1',
        state: 'rejected',
        requested_at: expect.stringMatching(RFC3339),
        decided_at: expect.stringMatching(RFC3339),
        decided_by: 'alice',
        feedback: 'Wrong quarter',
      },
    ]);
    expect(await events(taskId, ['APPROVAL_DECISION'])).toEqual([
      {
        workflow_id: taskId,
        type: 'APPROVAL_DECISION',
        message: 'Rejected: Wrong quarter',
        timestamp: expect.stringMatching(RFC3339),
        seq: expect.any(Number),
        approval_id: approvalId,
        checkpoint: 'pre_step_1',
        approved: false,
        decided_by: 'alice',
        feedback: 'Wrong quarter',
      },
    ]);
    expect(
      (await events(taskId, ['APPROVAL_DECISION', 'workflow.cancelled', 'PROGRESS'])).map((e) => [
        e.type,
        e.approved ?? e.checkpoint,
      ]),
    ).toEqual([
      ['PROGRESS', 'pre_planning'],
      ['PROGRESS', 'pre_step_1'],
      ['APPROVAL_DECISION', false],
      ['workflow.cancelled', 'pre_step_1'],
    ]);
    expect(await actions(taskId)).toEqual([
      {
        action: 'reject',
        actor: 'alice',
        key_name: 'acme-writer',
        reason: 'Wrong quarter',
        at: decided[0].decided_at,
        request_id: res.headers.get('x-request-id'),
        trace_id: res.headers.get('traceparent')!.split('-')[1],
        approval_id: approvalId,
      },
    ]);
    await expectEventsAtEveryOffset(api, temporal, taskId);
  });

  it('answers 404 for another tenant, an unknown task or approval, and 400 for missing fields', async () => {
    const taskId = await submit({ checkpoints: ['pre_planning'] });
    const { approval_id: approvalId } = await pendingApproval(taskId);
    const cases: [Record<string, unknown>, string | undefined, number, unknown][] = [
      [
        { workflow_id: taskId, approval_id: approvalId, approved: true },
        KEYS.globexWriter,
        404,
        { error: 'Task not found' },
      ],
      [
        { workflow_id: 'task_nobody', approval_id: approvalId, approved: true },
        undefined,
        404,
        { error: 'Task not found' },
      ],
      [
        { workflow_id: taskId, approval_id: 'apr_unknown', approved: true },
        undefined,
        404,
        { error: 'Approval not found' },
      ],
      [
        { approval_id: approvalId, approved: true },
        undefined,
        400,
        { error: 'workflow_id is required' },
      ],
      [
        { workflow_id: taskId, approved: true },
        undefined,
        400,
        { error: 'approval_id is required' },
      ],
      [
        { workflow_id: taskId, approval_id: approvalId },
        undefined,
        400,
        { error: 'approved is required' },
      ],
      [
        { workflow_id: taskId, approval_id: approvalId, approved: 'yes' },
        undefined,
        400,
        { error: 'approved must be a boolean' },
      ],
      [
        { workflow_id: taskId, approval_id: approvalId, approved: true },
        KEYS.acmeReader,
        403,
        { error: 'Forbidden' },
      ],
    ];
    for (const [body, key, status, answer] of cases) {
      const res = await decide(body, key);
      expect({ body, status: res.status, answer: res.body }).toEqual({ body, status, answer });
    }
    // Another tenant sees no task, and no approvals either.
    const foreign = await api.request('GET', `/api/v1/tasks/${taskId}/approvals`, {
      key: KEYS.globexWriter,
    });
    expect({ status: foreign.status, body: foreign.body }).toEqual({
      status: 404,
      body: { error: 'Task not found' },
    });
    // Still waiting: nothing above decided anything.
    expect((await approvals(taskId)).map((a) => a.state)).toEqual(['pending']);
    expect(
      (await decide({ workflow_id: taskId, approval_id: approvalId, approved: true })).status,
    ).toBe(200);
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
  });

  it('answers 400 naming the problem for malformed gates at submit', async () => {
    const cases: [unknown, string][] = [
      [{}, 'approval.checkpoints is required'],
      [{ checkpoints: [] }, 'approval.checkpoints must name at least one checkpoint'],
      [
        { checkpoints: ['pre_step_0'] },
        'approval.checkpoints may only name pre_planning, pre_step_<1..50>, pre_synthesis or pre_completion',
      ],
      [
        { checkpoints: ['pre_planning'], timeout_seconds: 0 },
        'approval.timeout_seconds must be at least 1',
      ],
      [
        { checkpoints: ['pre_planning'], timeout_seconds: 604_801 },
        'approval.timeout_seconds must be at most 604800',
      ],
      [
        { checkpoints: ['pre_planning'], on_timeout: 'wait' },
        'approval.on_timeout must be reject or approve',
      ],
      ['pre_planning', 'approval must be an object with checkpoints'],
    ];
    for (const [approval, error] of cases) {
      const res = await api.request('POST', '/api/v1/tasks', {
        json: { query: 'Summarize the quarterly report', approval },
      });
      expect({ approval, status: res.status, body: res.body }).toEqual({
        approval,
        status: 400,
        body: { error },
      });
    }
  });

  it('applies on_timeout when nobody decides in time: approve goes on, reject cancels', async () => {
    const approved = await submit({
      checkpoints: ['pre_planning'],
      timeout_seconds: 1,
      on_timeout: 'approve',
    });
    const rejected = await submit({ checkpoints: ['pre_planning'], timeout_seconds: 1 });
    await api.waitForStatus(approved, 'TASK_STATUS_COMPLETED');
    await api.waitForStatus(rejected, 'TASK_STATUS_CANCELLED');

    for (const [taskId, policyApproved] of [
      [approved, true],
      [rejected, false],
    ] as const) {
      const approvalId = `apr_${taskId}_pre_planning`;
      const [record] = await approvals(taskId);
      expect(record).toEqual({
        approval_id: approvalId,
        checkpoint: 'pre_planning',
        state: 'expired',
        requested_at: expect.stringMatching(RFC3339),
        decided_at: expect.stringMatching(RFC3339),
        decided_by: 'system',
        feedback: '',
      });
      // Not before the request's second was up.
      expect(Date.parse(record.decided_at)).toBeGreaterThanOrEqual(
        Date.parse(record.requested_at) + 1000,
      );
      expect(await events(taskId, ['APPROVAL_DECISION'])).toEqual([
        {
          workflow_id: taskId,
          type: 'APPROVAL_DECISION',
          message: policyApproved ? 'Approval timed out: approved' : 'Approval timed out: rejected',
          timestamp: expect.stringMatching(RFC3339),
          seq: expect.any(Number),
          approval_id: approvalId,
          checkpoint: 'pre_planning',
          approved: policyApproved,
          decided_by: 'system',
          feedback: '',
          expired: true,
        },
      ]);
      expect(await actions(taskId)).toEqual([
        {
          action: policyApproved ? 'approve' : 'reject',
          actor: 'system',
          key_name: '',
          reason: 'approval timed out',
          at: expect.stringMatching(RFC3339),
          request_id: '',
          trace_id: '',
          approval_id: `apr_${taskId}_pre_planning`,
        },
      ]);
      await expectEventsAtEveryOffset(api, temporal, taskId);
    }
    expect(await controlState(rejected)).toEqual({
      is_paused: false,
      is_cancelled: true,
      paused_at: '',
      pause_reason: '',
      paused_by: '',
      cancel_reason: 'approval timed out',
      cancelled_by: 'system',
      pause_deadline: '',
      on_timeout: '',
      pending_approval: null,
    });
    // Expired is decided: a late decision is refused.
    const late = await decide({
      workflow_id: approved,
      approval_id: `apr_${approved}_pre_planning`,
      approved: false,
    });
    expect({ status: late.status, body: late.body }).toEqual({
      status: 409,
      body: { error: 'approval already decided' },
    });
  });

  it('needs both a resume and an approval when paused while waiting for one', async () => {
    const taskId = await submit({ checkpoints: ['pre_step_1'] });
    const { approval_id: approvalId } = await pendingApproval(taskId);
    expect((await api.request('POST', `/api/v1/tasks/${taskId}/pause`)).status).toBe(202);
    expect(await api.status(taskId)).toBe('TASK_STATUS_PAUSED');
    expect(
      (await decide({ workflow_id: taskId, approval_id: approvalId, approved: true })).status,
    ).toBe(200);
    // Approved, and now waiting at the same checkpoint for the resume: no step has run.
    const [paused] = await waitFor('workflow.paused', async () => {
      const found = await events(taskId, ['workflow.paused']);
      return found.length > 0 && found;
    });
    expect(paused.checkpoint).toBe('pre_step_1');
    expect(await api.status(taskId)).toBe('TASK_STATUS_PAUSED');
    const steps = await events(taskId, ['PROGRESS']);
    expect(steps.map((e) => e.step)).toEqual([0, 0]);
    expect((await api.request('POST', `/api/v1/tasks/${taskId}/resume`)).status).toBe(202);
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    await expectEventsAtEveryOffset(api, temporal, taskId);
  });

  it('needs both the other way round too: resumed first, it still waits for the approval', async () => {
    const taskId = await submit({ checkpoints: ['pre_step_1'] });
    const { approval_id: approvalId } = await pendingApproval(taskId);
    expect((await api.request('POST', `/api/v1/tasks/${taskId}/pause`)).status).toBe(202);
    expect(await api.status(taskId)).toBe('TASK_STATUS_PAUSED');
    expect((await api.request('POST', `/api/v1/tasks/${taskId}/resume`)).status).toBe(202);
    // Resumed, and still at the gate: RUNNING, the same approval pending, no step run.
    expect(await api.status(taskId)).toBe('TASK_STATUS_RUNNING');
    const state = await controlState(taskId);
    expect(state.is_paused).toBe(false);
    expect(state.pending_approval).toEqual({
      approval_id: approvalId,
      checkpoint: 'pre_step_1',
      requested_at: expect.stringMatching(RFC3339),
    });
    const [resumed] = await waitFor('workflow.resumed', async () => {
      const found = await events(taskId, ['workflow.resumed']);
      return found.length > 0 && found;
    });
    // The pause never took effect (the task waited at the approval gate, before its control
    // gate): the resume withdraws it, from no checkpoint, as any resume of a pause not yet in
    // effect does.
    expect(resumed).toEqual({
      workflow_id: taskId,
      type: 'workflow.resumed',
      message: 'Resuming',
      timestamp: expect.stringMatching(RFC3339),
      seq: expect.any(Number),
      reason: '',
      requested_by: 'alice',
      checkpoint: '',
    });
    // The workflow has processed the resume (a workflow task completed after its signal) and
    // still waits: no step scheduled.
    const { TemporalObserver, scheduledSteps } = await import('./support/temporal');
    const temporal = await TemporalObserver.connect();
    try {
      const history = await waitFor('the workflow to process the resume', async () => {
        const found = await temporal.history(taskId);
        const signal = found.findIndex(
          (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'resume_v1',
        );
        return signal >= 0 &&
          found.slice(signal).some((e) => e.workflowTaskCompletedEventAttributes)
          ? found
          : undefined;
      });
      expect(scheduledSteps(history)).toEqual([]);
    } finally {
      await temporal.close();
    }
    expect((await events(taskId, ['PROGRESS'])).map((e) => e.step)).toEqual([0, 0]);
    expect((await approvals(taskId)).map((a) => a.state)).toEqual(['pending']);

    expect(
      (await decide({ workflow_id: taskId, approval_id: approvalId, approved: true })).status,
    ).toBe(200);
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    expect(
      (await events(taskId, ['workflow.paused', 'workflow.resumed', 'APPROVAL_DECISION'])).map(
        (e) => e.type,
      ),
    ).toEqual(['workflow.resumed', 'APPROVAL_DECISION']);
  });

  it('cancels a task waiting for approval; the approval is then no longer open', async () => {
    const taskId = await submit({ checkpoints: ['pre_planning'] });
    const { approval_id: approvalId } = await pendingApproval(taskId);
    expect((await api.request('POST', `/api/v1/tasks/${taskId}/cancel`)).status).toBe(202);
    await api.waitForStatus(taskId, 'TASK_STATUS_CANCELLED');
    const res = await decide({ workflow_id: taskId, approval_id: approvalId, approved: true });
    expect({ status: res.status, body: res.body }).toEqual({
      status: 409,
      body: { error: 'task is no longer waiting for this approval' },
    });
  });

  it("works with Shannon's Python SDK approve(), unchanged", async () => {
    const taskId = await submit({ checkpoints: ['pre_synthesis'] });
    const { approval_id: approvalId } = await pendingApproval(taskId);
    const out = await runWithShannonSdk(
      [
        'import os',
        'from shannon import ShannonClient',
        "client = ShannonClient(base_url=os.environ['BASE_URL'], api_key=os.environ['API_KEY'])",
        "print(client.approve(os.environ['APPROVAL_ID'], os.environ['WORKFLOW_ID'], approved=True, feedback='ok from the SDK'))",
        'client.close()',
      ].join('\n'),
      {
        BASE_URL: api.baseUrl,
        API_KEY: KEYS.acmeWriter,
        APPROVAL_ID: approvalId,
        WORKFLOW_ID: taskId,
      },
    );
    expect(out.trim()).toBe('True');
    await api.waitForStatus(taskId, 'TASK_STATUS_COMPLETED');
    expect((await approvals(taskId)).map((a) => [a.state, a.feedback])).toEqual([
      ['approved', 'ok from the SDK'],
    ]);
  });
});
