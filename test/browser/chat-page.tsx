import type { Message } from '@langchain/langgraph-sdk';
import { useStream } from '@langchain/langgraph-sdk/react';
import { useState } from 'react';
import { createRoot } from 'react-dom/client';

// A small chat page in the image of agent-chat-ui, built on useStream and bundled at test time: it sends the
// requests agent-chat-ui sends (shapes taken from its source: thread/index.tsx, messages/human.tsx and
// agent-inbox/hooks/use-interrupted-actions.tsx) and renders just enough for test/browser.test.ts to drive it.

interface ActionRequest {
  name: string;
  args: Record<string, unknown>;
  description?: string;
}
interface HITLRequest {
  action_requests: ActionRequest[];
  review_configs: { action_name: string; allowed_decisions: string[] }[];
}
type Decision =
  | { type: 'approve' }
  | { type: 'edit'; edited_action: { name: string; args: Record<string, unknown> } }
  | { type: 'reject'; message: string };
type State = { messages: Message[] };

const query = new URLSearchParams(location.search);

function App() {
  const [threadId, setThreadId] = useState<string | null>(query.get('threadId'));
  // As agent-chat-ui's Stream provider: history on, so edits branch and branches can be switched.
  const thread = useStream<State>({
    apiUrl: location.origin,
    assistantId: query.get('assistantId') ?? 'agent',
    threadId,
    onThreadId: setThreadId,
    fetchStateHistory: true,
  });
  const review = thread.interrupt?.value as HITLRequest | undefined;
  return (
    <main data-thread-id={threadId ?? ''} data-loading={String(thread.isLoading)}>
      <ol id="messages">
        {thread.messages.map((m, i) => (
          <MessageView key={m.id ?? i} message={m} thread={thread} />
        ))}
      </ol>
      {review?.action_requests?.length ? <Review key={thread.interrupt!.id} request={review} thread={thread} /> : null}
      {thread.error ? <p id="error">{String(thread.error)}</p> : null}
      <Composer thread={thread} />
    </main>
  );
}

type Thread = ReturnType<typeof useStream<State>>;

const text = (m: Message) =>
  typeof m.content === 'string' ? m.content : m.content.map((c) => ('text' in c && typeof c.text === 'string' ? c.text : '')).join('');

function Composer({ thread }: { thread: Thread }) {
  const [input, setInput] = useState('');
  const send = () => {
    const newHumanMessage: Message = { id: crypto.randomUUID(), type: 'human', content: [{ type: 'text', text: input }] };
    const toolMessages = ensureToolCallsHaveResponses(thread.messages);
    void thread.submit(
      { messages: [...toolMessages, newHumanMessage] },
      {
        streamMode: ['values'],
        streamSubgraphs: true,
        streamResumable: true,
        optimisticValues: (prev) => ({ ...prev, messages: [...(prev.messages ?? []), ...toolMessages, newHumanMessage] }),
      },
    );
    setInput('');
  };
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <textarea id="composer" value={input} onChange={(e) => setInput(e.target.value)} />
      <button id="send" type="submit" disabled={thread.isLoading || !input}>
        Send
      </button>
    </form>
  );
}

/** agent-chat-ui answers tool calls left without a result (a review marked resolved) before a new message. */
function ensureToolCallsHaveResponses(messages: Message[]): Message[] {
  const last = messages.at(-1);
  if (last?.type !== 'ai' || !last.tool_calls?.length) return [];
  return last.tool_calls.map((tc) => ({
    type: 'tool' as const,
    tool_call_id: tc.id ?? '',
    id: `do-not-render-${crypto.randomUUID()}`,
    name: tc.name,
    content: 'Successfully handled tool call.',
  }));
}

function MessageView({ message, thread }: { message: Message; thread: Thread }) {
  const meta = thread.getMessagesMetadata(message);
  const [editing, setEditing] = useState<string | null>(null);
  const saveEdit = () => {
    const newMessage: Message = { type: 'human', content: editing ?? '' };
    const values = meta?.firstSeenState?.values;
    void thread.submit(
      { messages: [newMessage] },
      {
        checkpoint: meta?.firstSeenState?.parent_checkpoint,
        streamMode: ['values'],
        streamSubgraphs: true,
        streamResumable: true,
        optimisticValues: (prev) => (values ? { ...values, messages: [...(values.messages ?? []), newMessage] } : prev),
      },
    );
    setEditing(null);
  };
  const options = meta?.branchOptions ?? [];
  const at = options.indexOf(meta?.branch ?? '');
  return (
    <li data-type={message.type} data-name={'name' in message ? (message.name ?? '') : ''}>
      <span className="text">{text(message)}</span>
      {message.type === 'ai'
        ? (message.tool_calls ?? []).map((c) => (
            <code key={c.id} className="tool-call" data-name={c.name}>
              {JSON.stringify(c.args)}
            </code>
          ))
        : null}
      {message.type === 'human' && editing === null ? (
        <button className="edit" onClick={() => setEditing(text(message))}>
          Edit
        </button>
      ) : null}
      {editing !== null ? (
        <>
          <textarea className="edit-box" value={editing} onChange={(e) => setEditing(e.target.value)} />
          <button className="save" onClick={saveEdit}>
            Save
          </button>
        </>
      ) : null}
      {options.length > 1 ? (
        <span className="branches">
          <button className="prev" disabled={at <= 0} onClick={() => thread.setBranch(options[at - 1]!)}>
            ‹
          </button>
          <span className="branch">{`${at + 1}/${options.length}`}</span>
          <button className="next" disabled={at >= options.length - 1} onClick={() => thread.setBranch(options[at + 1]!)}>
            ›
          </button>
        </span>
      ) : null}
    </li>
  );
}

/** One row per reviewed call; one decision is sent per call, in call order, as the middleware expects. */
function Review({ request, thread }: { request: HITLRequest; thread: Thread }) {
  const [choices, setChoices] = useState(() =>
    request.action_requests.map((a) => ({ type: 'approve', args: JSON.stringify(a.args), reason: '' })),
  );
  const set = (i: number, change: Partial<(typeof choices)[number]>) =>
    setChoices((all) => all.map((c, j) => (j === i ? { ...c, ...change } : c)));
  const decisions = (): Decision[] =>
    choices.map((c, i) => {
      const action = request.action_requests[i]!;
      if (c.type === 'reject') return { type: 'reject', message: c.reason };
      if (c.type === 'edit' && c.args !== JSON.stringify(action.args))
        return { type: 'edit', edited_action: { name: action.name, args: JSON.parse(c.args) as Record<string, unknown> } };
      return { type: 'approve' };
    });
  // use-interrupted-actions.tsx: the decisions go in command.resume, beside an empty input.
  const submit = () => void thread.submit({}, { command: { resume: { decisions: decisions() } } });
  const resolve = () => void thread.submit({}, { command: { goto: '__end__' } });
  return (
    <section id="review">
      {request.action_requests.map((a, i) => (
        <div className="action" key={i} data-name={a.name}>
          <p className="description">{a.description}</p>
          <select className="decision" value={choices[i]!.type} onChange={(e) => set(i, { type: e.target.value })}>
            {request.review_configs[i]!.allowed_decisions.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
          <textarea className="args" value={choices[i]!.args} onChange={(e) => set(i, { args: e.target.value })} />
          <input className="reason" value={choices[i]!.reason} onChange={(e) => set(i, { reason: e.target.value })} />
        </div>
      ))}
      <button id="submit-review" disabled={thread.isLoading} onClick={submit}>
        {request.action_requests.length > 1 ? 'Submit all' : 'Submit'}
      </button>
      <button id="resolve" disabled={thread.isLoading} onClick={resolve}>
        Mark as Resolved
      </button>
    </section>
  );
}

createRoot(document.getElementById('root')!).render(<App />);
