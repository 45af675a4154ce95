import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../config/logger.js';
import { inheritedEnv, loadTestConfig } from '../config/test.js';
import { streamModes, threadStreamModes } from '../api/runs/schema.js';
import { ensurePythonClients } from '../scripts/python-clients.js';
import { projectRoot } from '../scripts/temporal-cli.js';
import { startStack, type Stack } from './helpers/stack.js';
import { testTools } from './helpers/tools.js';

// The official Python clients against a real stack: langgraph-sdk's sync and async clients and RemoteGraph from
// langgraph, at the versions pinned in test/python/requirements.txt, from a virtualenv the setup builds. One
// Python process (test/python/clients.py) drives every scenario and reports what the clients saw; the
// assertions are here. The scripted model stands in for a model.

/* eslint-disable @typescript-eslint/no-explicit-any -- the report is JSON from another process, checked field by field */
type Report = Record<string, any>;
type Part = { event: string; data: any };

let stack: Stack;
let report: Report;

beforeAll(async () => {
  // Building the venv on a new machine downloads the clients from PyPI; later runs reuse it.
  const python = await ensurePythonClients(createLogger(loadTestConfig().TEST_LOG_LEVEL));
  stack = await startStack({ tools: testTools });
  report = await runClients(python, stack.url);
}, 600_000);
afterAll(() => stack?.stop());

function runClients(python: string, url: string): Promise<Report> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [path.join(projectRoot, 'test', 'python', 'clients.py'), url], {
      env: inheritedEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`clients.py exited ${code}:\n${err}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as Report);
      } catch {
        reject(new Error(`clients.py printed no report:\n${out}\n${err}`));
      }
    });
  });
}

const events = (parts: Part[]) => parts.map((p) => p.event);
const lastValues = (parts: Part[]) => parts.filter((p) => p.event === 'values').at(-1)?.data;
/** A bounded stream that ended by itself (the Python side records {timeout} for one that did not). */
function ended(observed: { result?: unknown; timeout?: number }): Part[] {
  expect(observed).not.toHaveProperty('timeout');
  expect(observed.result).toBeInstanceOf(Array);
  return observed.result as Part[];
}

describe('join_stream (items 1 and 10)', () => {
  it('joins with no stream_mode: the empty ?stream_mode= the SDK sends means "not given"', () => {
    const j = report.join_stream;
    expect(events(ended(j.live_resumable))).toEqual(['metadata', 'values', 'values']);
    // Joined while it ran (live events only), or just after it ended (its final events): either way no 422.
    expect(report.async.join_live_status).toBe('success');
    expect(events(ended(report.async.join_live)).every((e) => e === 'values')).toBe(true);
  });

  it('closes promptly on a finished run, after its final events', () => {
    const j = report.join_stream;
    // A resumable run replays its whole log; another run its final state.
    expect(events(ended(j.finished))).toEqual(['metadata', 'values', 'values']);
    const finished = ended(j.finished_not_resumable);
    expect(events(finished)).toEqual(['values']);
    expect(lastValues(finished).messages.map((m: { content: string }) => m.content)).toEqual(['not resumable', 'not resumable']);
    expect(events(ended(j.finished_values_only))).toEqual(['values']);
  });

  it('closes promptly on a cancelled run and on a failed run, with the error', () => {
    const j = report.join_stream;
    expect(j.cancelled_status).toBe('interrupted');
    expect(events(ended(j.cancelled))).toEqual(['values']);
    expect(events(ended(report.async.join_cancelled))).toEqual(['values']);
    expect(j.failed_status).toBe('error');
    const failed = ended(j.failed);
    expect(events(failed)).toEqual(['values', 'error']);
    expect(failed.at(-1)!.data).toEqual({ error: 'ModelError', message: 'scripted model error: boom' });
  });
});

describe('multitask reject (item 2)', () => {
  it('answers 409, so the SDK raises ConflictError, and queues nothing', () => {
    const conflict = {
      raised: 'ConflictError',
      status: 409,
      message: 'Thread is already running a task. Wait for it to finish or choose a different multitask strategy.',
    };
    expect(report.reject.refused).toEqual(conflict);
    expect(report.reject.runs).toEqual([report.reject.busy_run]);
    expect(report.async.reject).toEqual(conflict);
  });
});

describe('replay from the input checkpoint (item 3)', () => {
  it('applies the recorded input and goes on, as LangGraph does', () => {
    const r = report.replay;
    expect(r.target_next).toEqual(['__start__']);
    expect(r.replayed.messages.map((m: { type: string; content: string }) => [m.type, m.content])).toEqual([
      ['human', 'first'],
      ['ai', 'first'],
    ]);
    expect(r.runs).toEqual(['success', 'success', 'success']);
  });
});

describe('stream modes (items 4, 5, 6 and 7)', () => {
  it('debug has checkpoint, task and task_result events', () => {
    const debug = report.stream_modes.debug as { type: string; step: number; payload: any }[];
    expect(debug.map((d) => d.type)).toEqual(['checkpoint', 'checkpoint', 'task', 'task_result', 'checkpoint']);
    const result = debug.find((d) => d.type === 'task_result')!;
    expect(Object.keys(result.payload).sort()).toEqual(['error', 'id', 'interrupts', 'name', 'result']);
    expect(result.payload).toMatchObject({ name: 'agent', error: null, interrupts: [] });
    expect(result.payload.result.messages[0]).toMatchObject({ type: 'ai', content: 'debug me' });
    const checkpoint = debug.at(-1)!.payload;
    expect(checkpoint.checkpoint.checkpoint_id).toBe(checkpoint.config.configurable.checkpoint_id);
    expect(checkpoint.parent_checkpoint.checkpoint_id).toBe(checkpoint.parent_config.configurable.checkpoint_id);
    expect(report.async.debug_types).toEqual(['checkpoint', 'checkpoint', 'task', 'task_result', 'checkpoint']);
    expect(report.remote_stream.debug_types).toEqual(['checkpoint', 'checkpoint', 'task', 'task_result', 'checkpoint']);
    expect(report.async.tasks.map((t: object) => Object.keys(t).sort())).toEqual([
      ['id', 'input', 'interrupts', 'name', 'triggers'],
      ['error', 'id', 'interrupts', 'name', 'result'],
    ]);
  });

  it('accepts every mode the SDKs list, lifecycle included, and names them when refusing one', () => {
    expect(events(report.stream_modes.lifecycle)).toEqual(['metadata']);
    expect(report.async.lifecycle).toEqual(['metadata']);
    expect(report.stream_modes.bogus).toMatchObject({ raised: 'UnprocessableEntityError', status: 422 });
    expect(report.stream_modes.bogus.message).toContain(`supported: ${streamModes.join(', ')}`);
  });

  it('knows every stream mode the Python SDK lists (fails when the SDK adds one)', () => {
    expect([...streamModes].sort()).toEqual([...report.stream_modes.sdk_stream_modes].sort());
    expect([...threadStreamModes].sort()).toEqual([...report.stream_modes.sdk_thread_stream_modes].sort());
  });

  it('sends checkpoint tasks as LangGraph does: {id, name, interrupts, state}', () => {
    const tasks = (report.stream_modes.checkpoints as { tasks: object[] }[]).flatMap((c) => c.tasks);
    expect(tasks.length).toBeGreaterThan(0);
    for (const t of tasks) expect(Object.keys(t).sort()).toEqual(['id', 'interrupts', 'name', 'state']);
    expect(tasks.map((t: any) => t.name)).toEqual(['__start__', 'agent']);
  });

  it('types streamed tokens AIMessageChunk, as the production server does', () => {
    expect(report.async.token_types).toEqual(['AIMessageChunk', 'AIMessageChunk']);
    expect(report.remote_stream.message_types).toEqual(['AIMessageChunk', 'AIMessageChunk']);
  });
});

describe('breakpoints and thread state (items 6 and 9)', () => {
  it('ends a run stopped at interrupt_before with success while the thread is interrupted, as the production server does', () => {
    const b = report.breakpoint;
    expect(b.interrupt).toEqual([]);
    expect(b.run_status).toBe('success');
    expect(b.thread_status).toBe('interrupted');
  });

  it('gives ThreadState tasks every key the SDK types require, result included', () => {
    const b = report.breakpoint;
    expect(b.state_next).toEqual(['tools']);
    expect(b.state_tasks).toHaveLength(1);
    expect(Object.keys(b.state_tasks[0]).sort()).toEqual(['checkpoint', 'error', 'id', 'interrupts', 'name', 'path', 'result', 'state']);
    expect(b.remote_next).toEqual(['tools']);
    expect(b.remote_tasks).toEqual([{ name: 'tools', result: null, error: null }]);
  });
});

describe('protocol v2 interrupts (item 8)', () => {
  it('reach the Python thread stream with their value, and resume through it', () => {
    const p = report.protocol;
    expect(p.interrupts).toHaveLength(1);
    expect(p.interrupts[0]).toMatchObject({ value: { question: 'Which colour?' }, namespace: [] });
    expect(p.last_message).toMatchObject({ type: 'ai', content: 'paint it' });
  });
});

describe('empty threads (item 11)', () => {
  it('have a null checkpoint, as on the production server; RemoteGraph.get_state needs one run first', () => {
    const e = report.empty_thread;
    expect(e.state).toEqual({
      values: {},
      next: [],
      tasks: [],
      checkpoint: null,
      parent_checkpoint: null,
      metadata: {},
      created_at: null,
      interrupts: [],
    });
    // RemoteGraph reads state["checkpoint"]["thread_id"]; it fails the same way against the production server.
    expect(e.remote_empty).toMatchObject({ raised: 'TypeError' });
    expect(e.remote_invoke).toEqual(['now there is one', 'now there is one']);
    expect(e.remote_after_checkpoint).toEqual(expect.any(String));
  });
});

describe('crons (issue 13: every SDK cron method)', () => {
  it('creates, fires, pauses, updates, searches with sort, select and metadata, counts and deletes', () => {
    const c = report.crons;
    expect(c).not.toHaveProperty('raised');
    expect(c.created).toEqual({ thread_id: null, timezone: 'Europe/Berlin', on_run_completed: 'keep', enabled: true });
    expect(c.fired_runs).toBeGreaterThan(0);
    expect(c.paused).toBe(false);
    expect(c.updated).toMatchObject({ schedule: '30 4 * * 1-5', metadata: { kind: 'py-report', owner: 'bo' } });
    expect(c.search_metadata).toEqual([c.ids[0]]);
    expect(c.sorted).toEqual(c.ids);
    expect(c.select_keys).toEqual(['cron_id', 'schedule']);
    expect(c.count_thread).toBe(1);
    expect(c.count_metadata).toBe(1);
    expect(c.count_after_delete).toBe(0);
    expect(c.delete_again).toMatchObject({ raised: 'NotFoundError', status: 404 });
  });
});
