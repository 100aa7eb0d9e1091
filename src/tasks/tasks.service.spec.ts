import type { Principal } from '../auth/principal';
import type { AppConfig } from '../config/app-config';
import type { HistoryEvent } from '../temporal/task-workflow.gateway';
import { FakeHistory, fakeGateway, recordedHistory } from '../testing/fake-history';
import { PlayedWorkflow, cancel, decision, pause, resume } from '../testing/played-workflow';
import { MemoryDecisionLedger } from './decision-ledger';
import type { TaskChanges } from './task-changes';
import { readTaskHistory, recordedState } from './task-history';
import { TaskReader } from './task-reader';
import { TasksService } from './tasks.service';

const acme: Principal = { tenantId: 'acme', userId: 'u', keyName: 'k', scopes: ['tasks:read'] };

/** The service on a stub of Temporal holding `events`, and what it was asked for. */
function serviceOver(events: readonly HistoryEvent[]) {
  const temporal = fakeGateway(FakeHistory.fromEvents(events));
  const ledger = new MemoryDecisionLedger();
  const service = new TasksService(
    temporal.gateway,
    new TaskReader(temporal.gateway, ledger),
    ledger,
    {} as TaskChanges,
    {} as AppConfig,
  );
  return { service, temporal };
}

/**
 * What reading the task itself costs (TaskReader: a describe, and the few events after the
 * last workflow task when one is outstanding or the task closed), for `principal`.
 */
async function readingTheTask(events: readonly HistoryEvent[], principal = acme) {
  const { service, temporal } = serviceOver(events);
  await service.get(principal, 'task');
  return { calls: [...temporal.calls], eventsRead: temporal.eventsRead };
}

/** The events a fold of the whole history from its first event gives. */
const allEvents = (events: readonly HistoryEvent[]) =>
  readTaskHistory('task', 'run-1', events)!.events;

/**
 * A task that paused and resumed `rounds` times, between steps: pauses that took effect, pauses
 * withdrawn in the same workflow task, signals of no effect, several signals per workflow task.
 */
function longTask(rounds: number): PlayedWorkflow {
  const wf = new PlayedWorkflow();
  wf.activation([], () => wf.checkpoint('pre_planning'));
  wf.activation([], () => wf.checkpoint('pre_step_1'));
  for (let round = 0; round < rounds; round++) {
    switch (round % 4) {
      case 0:
        wf.activation([pause(), resume]);
        break;
      case 1:
        wf.activation([pause()], () => wf.wait());
        wf.activation([resume, resume], () => wf.goOn());
        break;
      case 2:
        wf.activation([pause(), pause(), resume, pause()]);
        wf.activation([resume]);
        break;
      case 3:
        wf.activation([], () => {
          wf.stepDone();
          wf.checkpoint(`pre_step_${Math.floor(round / 4) + 2}`);
        });
        break;
    }
  }
  return wf;
}

/** The first record (at or before the end) counting at most `offset` events, read backwards. */
const anchorOf = (events: readonly HistoryEvent[], offset: number) =>
  [...events].reverse().find((e) => {
    const state = recordedState(e);
    return state?.taskEvents !== undefined && state.taskEvents <= offset;
  });

describe('TasksService.events', () => {
  describe('on a task whose workflow counts its task events', () => {
    // Still open, with signals written after its last record that no worker has handled yet.
    const open = longTask(40).signalled([pause(), resume, cancel]).history.events;
    const closed = (() => {
      const wf = longTask(40);
      wf.activation([cancel], () => {
        wf.cancelled();
        wf.complete('done');
      });
      return wf.history.events;
    })();

    // Approvals asked for, decided and expired, and pause deadlines: the workflow's own changes.
    const gated = (() => {
      const wf = new PlayedWorkflow(true);
      wf.activation([], () => wf.checkpoint('pre_planning'));
      for (let step = 1; step <= 12; step++) {
        const checkpoint = `pre_step_${step}`;
        wf.activation([], () => {
          wf.checkpoint(checkpoint);
          wf.askApproval(checkpoint);
        });
        if (step % 3 === 0) {
          wf.activation([pause()], () => wf.expireApproval('approve'));
          wf.activation([resume]);
        } else {
          wf.activation(
            [decision(checkpoint, true), pause({ timeout_seconds: 5, on_timeout: 'resume' })],
            () => wf.wait(),
          );
          wf.activation([decision(checkpoint, false)], () => {
            wf.deadline();
            wf.goOn();
          });
        }
        wf.activation([], () => wf.stepDone());
      }
      wf.activation([], () => wf.askApproval('pre_synthesis'));
      return wf.signalled([decision('pre_synthesis', true), pause()]).history.events;
    })();

    it('has the workflow’s own events among those of the task with approvals', () => {
      expect(new Set(allEvents(gated).map((e) => e.type))).toEqual(
        new Set([
          'WORKFLOW_STARTED',
          'PROGRESS',
          'APPROVAL_REQUESTED',
          'APPROVAL_DECISION',
          'workflow.pausing',
          'workflow.paused',
          'workflow.resumed',
        ]),
      );
      expect(allEvents(gated).filter((e) => e.requested_by === 'system')).toHaveLength(8);
      expect(allEvents(gated).filter((e) => e.expired === true)).toHaveLength(4);
    });

    it.each([
      ['open, with signals after its last record', open],
      ['closed', closed],
      ['with approvals and deadlines', gated],
    ])('answers every offset (%s) exactly as a fold from the start does', async (_, events) => {
      const all = allEvents(events);
      expect(all.length).toBeGreaterThan(80);
      const reading = await readingTheTask(events);
      // As of the workflow's last record: the events after it are not counted yet.
      const counted = recordedState(anchorOf(events, Infinity)!)!.taskEvents!;
      expect(counted).toBeLessThan(all.length);
      for (let offset = 0; offset <= all.length + 3; offset++) {
        for (const limit of [1, 7]) {
          const { service, temporal } = serviceOver(events);
          const page = await service.events(acme, 'task', offset, limit);
          expect([offset, limit, page]).toEqual([offset, limit, all.slice(offset, offset + limit)]);
          // From the nearer end: forward from the start up to the page's end, or backwards from
          // the end down to the page's start.
          const fromEnd = counted - offset < offset + limit;
          expect([offset, limit, temporal.calls]).toEqual([
            offset,
            limit,
            [...reading.calls, fromEnd ? 'readBackwards run-1' : 'pages run-1'],
          ]);
        }
      }
    });

    it('reads only the end of a long history for the last page, and one page past the end', async () => {
      const events = longTask(800).signalled([pause(), resume]).history.events;
      const all = allEvents(events);
      expect(events.length).toBeGreaterThan(5000);
      const reading = await readingTheTask(events);
      const eventsRead = (temporal: { eventsRead: number }) =>
        temporal.eventsRead - reading.eventsRead;

      const last = serviceOver(events);
      const offset = all.length - 50;
      expect(await last.service.events(acme, 'task', offset, 50)).toEqual(all.slice(offset));
      // Back to the last record before the page, plus at most the rest of the page it is in.
      const needed = events.length - Number(anchorOf(events, offset)!.eventId) + 1;
      expect(needed).toBeLessThan(500);
      expect(eventsRead(last.temporal)).toBeGreaterThanOrEqual(needed);
      expect(eventsRead(last.temporal)).toBeLessThan(needed + 256);

      for (const past of [all.length, all.length + 1, all.length + 10_000]) {
        const beyond = serviceOver(events);
        expect(await beyond.service.events(acme, 'task', past, 50)).toEqual([]);
        expect([past, beyond.temporal.calls, eventsRead(beyond.temporal)]).toEqual([
          past,
          [...reading.calls, 'readBackwards run-1'],
          32,
        ]);
      }

      const first = serviceOver(events);
      expect(await first.service.events(acme, 'task', 0, 50)).toEqual(all.slice(0, 50));
      expect([first.temporal.calls, eventsRead(first.temporal)]).toEqual([
        [...reading.calls, 'pages run-1'],
        256,
      ]);
    });

    it('reads from the end for an offset in the later half, from the start for the earlier', async () => {
      const events = longTask(800).history.events;
      const all = allEvents(events);
      const middle = Math.floor(all.length / 2);
      for (const offset of [middle - 100, middle + 100]) {
        const { service, temporal } = serviceOver(events);
        expect(await service.events(acme, 'task', offset, 50)).toEqual(
          all.slice(offset, offset + 50),
        );
        // Never much more than the half of the history nearer the page.
        expect([offset, temporal.eventsRead < events.length / 2 + 512]).toEqual([offset, true]);
      }
    });
  });

  it('reads a task whose workflow never counted its events from the start', async () => {
    const events = recordedHistory('v2-pause-resume-twice');
    const all = allEvents(events);
    const task = readTaskHistory('task', 'run-1', events)!.task;
    const principal = { ...acme, tenantId: task.tenantId };
    const reading = await readingTheTask(events, principal);
    for (let offset = 0; offset <= all.length + 1; offset++) {
      const { service, temporal } = serviceOver(events);
      expect([offset, await service.events(principal, 'task', offset, 3)]).toEqual([
        offset,
        all.slice(offset, offset + 3),
      ]);
      expect(temporal.calls).toEqual([...reading.calls, 'pages run-1']);
    }
  });
});
