"""Drives the API with the official Python clients and prints what they saw, as one JSON object.

Usage: clients.py <api_url>

test/python-clients.test.ts runs this once against a real stack and asserts on the observations, so one
process covers the sync SDK client, the async SDK client and RemoteGraph. Each check records what the client
returned or raised; nothing here decides pass or fail. A stream that does not end within STREAM_LIMIT seconds
is recorded as a timeout instead of hanging the suite.
"""

import asyncio
import json
import os
import sys
import threading
import time
import typing
import uuid
from zoneinfo import ZoneInfo

from langgraph.pregel.remote import RemoteGraph
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.schema import StreamMode, ThreadStreamMode

STREAM_LIMIT = 30
URL = sys.argv[1]
sync = get_sync_client(url=URL, api_key=None)

SLOW = {"configurable": {"script": [{"content": "a slow answer that takes a while", "delay_ms": 60_000}]}}
FAILING = {"configurable": {"script": [{"error": "boom"}]}}
CALCULATE = {
    "configurable": {
        "script": [{"tool_calls": [{"name": "calculator", "args": {"expression": "6*7"}}]}, {"content": "42."}]
    }
}
ASK = {
    "configurable": {
        "script": [{"tool_calls": [{"name": "ask_human", "args": {"question": "Which colour?"}}]}, {"content": "Noted."}]
    }
}


def human(text):
    return {"messages": [{"role": "user", "content": text}]}


def failure(err):
    status = getattr(getattr(err, "response", None), "status_code", None)
    return {"raised": type(err).__name__, "status": status, "message": str(err)[:300]}


def observe(fn):
    try:
        return fn()
    except Exception as err:  # the observation is the failure itself
        return failure(err)


def bounded(fn, seconds=STREAM_LIMIT):
    """Runs fn in a daemon thread; a stream that never ends becomes {"timeout": seconds}."""
    out = {}

    def target():
        out["value"] = observe(fn)

    worker = threading.Thread(target=target, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        return {"timeout": seconds}
    return {"result": out["value"], "seconds": round(time.monotonic() - started, 2)}


def parts(stream):
    return [{"event": p.event, "data": p.data} for p in stream]


def new_thread():
    return sync.threads.create()["thread_id"]


def settle(thread_id):
    for _ in range(600):
        if all(r["status"] not in ("pending", "running") for r in sync.runs.list(thread_id)):
            return
        time.sleep(0.05)
    raise TimeoutError("runs never settled")


def wait_for_input(thread_id):
    for _ in range(600):
        if sync.threads.get_state(thread_id)["values"].get("messages"):
            return
        time.sleep(0.05)
    raise TimeoutError("the run never committed its input")


# ---------------------------------------------------------------- sync client


def join_stream_checks():
    """1 and 10: join_stream with no stream_mode, on a live run and on finished, cancelled and failed runs."""
    out = {}
    thread_id = new_thread()
    live = sync.runs.create(thread_id, "agent", input=human("join me"), stream_resumable=True)
    out["live_resumable"] = bounded(lambda: parts(sync.runs.join_stream(thread_id, live["run_id"], last_event_id="-1")))
    settle(thread_id)
    out["finished"] = bounded(lambda: parts(sync.runs.join_stream(thread_id, live["run_id"])))

    thread_id = new_thread()
    done = sync.runs.create(thread_id, "agent", input=human("not resumable"))
    sync.runs.join(thread_id, done["run_id"])
    out["finished_not_resumable"] = bounded(lambda: parts(sync.runs.join_stream(thread_id, done["run_id"])))
    out["finished_values_only"] = bounded(lambda: parts(sync.runs.join_stream(thread_id, done["run_id"], stream_mode="values")))

    thread_id = new_thread()
    slow = sync.runs.create(thread_id, "agent", input=human("cancel me"), config=SLOW)
    # Cancelled once its input is committed, so the run has a final state to send.
    wait_for_input(thread_id)
    sync.runs.cancel(thread_id, slow["run_id"], wait=True)
    out["cancelled_status"] = sync.runs.get(thread_id, slow["run_id"])["status"]
    out["cancelled"] = bounded(lambda: parts(sync.runs.join_stream(thread_id, slow["run_id"])))

    thread_id = new_thread()
    failed = sync.runs.create(thread_id, "agent", input=human("fail"), config=FAILING)
    settle(thread_id)
    out["failed_status"] = sync.runs.get(thread_id, failed["run_id"])["status"]
    out["failed"] = bounded(lambda: parts(sync.runs.join_stream(thread_id, failed["run_id"])))
    return out


def reject_checks():
    """2: multitask_strategy reject on a busy thread."""
    thread_id = new_thread()
    busy = sync.runs.create(thread_id, "agent", input=human("busy"), config=SLOW)
    refused = observe(lambda: sync.runs.create(thread_id, "agent", input=human("second"), multitask_strategy="reject"))
    runs = [r["run_id"] for r in sync.runs.list(thread_id)]
    sync.runs.cancel(thread_id, busy["run_id"], wait=True)
    return {"refused": refused, "runs": runs, "busy_run": busy["run_id"]}


def replay_checks():
    """3: wait(input=None, checkpoint_id=<the input checkpoint>) replays that input."""
    thread_id = new_thread()
    sync.runs.wait(thread_id, "agent", input=human("first"))
    sync.runs.wait(thread_id, "agent", input=human("second"))
    history = sync.threads.get_history(thread_id, limit=50)
    inputs = [h for h in history if h["metadata"].get("source") == "input"]
    # The oldest input checkpoint: the one that recorded "first".
    target = inputs[-1]
    replayed = observe(
        lambda: sync.runs.wait(thread_id, "agent", input=None, checkpoint_id=target["checkpoint"]["checkpoint_id"])
    )
    state = sync.threads.get_state(thread_id)
    return {
        "target_next": target["next"],
        "replayed": replayed,
        "state_parent": state["parent_checkpoint"],
        "runs": [r["status"] for r in sync.runs.list(thread_id)],
    }


def stream_mode_checks():
    """4, 5, 6 and 7 through the sync client: debug, lifecycle, checkpoints and messages-tuple."""
    debug = parts(sync.runs.stream(None, "agent", input=human("debug me"), stream_mode="debug"))
    lifecycle = observe(lambda: parts(sync.runs.stream(None, "agent", input=human("hi"), stream_mode="lifecycle")))
    bogus = observe(lambda: parts(sync.runs.stream(None, "agent", input=human("hi"), stream_mode="bogus")))
    checkpoints = parts(sync.runs.stream(None, "agent", input=human("check"), stream_mode="checkpoints"))
    return {
        "debug": [p["data"] for p in debug if p["event"] == "debug"],
        "lifecycle": lifecycle,
        "bogus": bogus,
        "checkpoints": [p["data"] for p in checkpoints if p["event"] == "checkpoints"],
        "sdk_stream_modes": list(typing.get_args(StreamMode)),
        "sdk_thread_stream_modes": list(typing.get_args(ThreadStreamMode)),
    }


def breakpoint_checks():
    """6 and 9: a run stopped at interrupt_before, its status, and ThreadState.tasks."""
    thread_id = new_thread()
    paused = sync.runs.wait(thread_id, "agent", input=human("6*7"), config=CALCULATE, interrupt_before=["tools"])
    run = sync.runs.list(thread_id)[0]
    state = sync.threads.get_state(thread_id)
    graph = RemoteGraph("agent", url=URL, api_key=None)
    snapshot = graph.get_state({"configurable": {"thread_id": thread_id}})
    return {
        "interrupt": paused.get("__interrupt__"),
        "run_status": run["status"],
        "thread_status": sync.threads.get(thread_id)["status"],
        "state_next": state["next"],
        "state_tasks": state["tasks"],
        "remote_next": list(snapshot.next),
        "remote_tasks": [{"name": t.name, "result": t.result, "error": t.error} for t in snapshot.tasks],
    }


def protocol_checks():
    """8: a dynamic interrupt over the thread stream (protocol v2), answered through the same stream."""
    thread_id = str(uuid.uuid4())
    with sync.threads.stream(thread_id, assistant_id="agent") as thread:
        thread.run.start(input=human("paint it"), config=ASK)
        deadline = time.monotonic() + STREAM_LIMIT
        while not thread.interrupted and time.monotonic() < deadline:
            time.sleep(0.05)
        interrupts = list(thread.interrupts)
        if not interrupts:
            return {"interrupts": []}
        thread.run.respond("blue")
        output = thread.output
    return {"interrupts": interrupts, "last_message": output["messages"][-1]}


def empty_thread_checks():
    """11: the state of a thread with no runs, through the SDK and through RemoteGraph."""
    thread_id = new_thread()
    graph = RemoteGraph("agent", url=URL, api_key=None)
    state = sync.threads.get_state(thread_id)
    remote_empty = observe(lambda: graph.get_state({"configurable": {"thread_id": thread_id}}).values)
    result = graph.invoke(human("now there is one"), {"configurable": {"thread_id": thread_id}})
    remote_after = graph.get_state({"configurable": {"thread_id": thread_id}})
    return {
        "state": state,
        "remote_empty": remote_empty,
        "remote_invoke": [m["content"] for m in result["messages"]],
        "remote_after_checkpoint": remote_after.config["configurable"].get("checkpoint_id"),
    }


def remote_stream_checks():
    """4 and 7 through RemoteGraph: its debug stream and its token stream."""
    graph = RemoteGraph("agent", url=URL, api_key=None)
    debug = list(graph.stream(human("remote debug"), stream_mode="debug"))
    messages = list(graph.stream(human("remote tokens"), stream_mode="messages"))
    return {
        "debug_types": [c["type"] for c in debug],
        "message_types": [m[0]["type"] for m in messages],
    }


def cron_checks():
    """Every method of the sync client's crons, as the JS SDK's are in crons.test.ts."""
    out = {}
    nightly = sync.crons.create(
        "agent",
        schedule="0 3 * * *",
        timezone=ZoneInfo("Europe/Berlin"),
        input=human("report"),
        metadata={"kind": "py-report"},
        on_run_completed="keep",
    )
    out["created"] = {k: nightly.get(k) for k in ("thread_id", "timezone", "on_run_completed", "enabled")}
    thread_id = new_thread()
    # A leading seconds field (the Schedules extension) makes it fire every second, so the test need not wait.
    ticking = sync.crons.create_for_thread(thread_id, "agent", schedule="* * * * * * *", input=human("tick"))
    for _ in range(600):
        if sync.runs.list(thread_id):
            break
        time.sleep(0.1)
    out["fired_runs"] = len(sync.runs.list(thread_id))
    out["paused"] = sync.crons.update(ticking["cron_id"], enabled=False)["enabled"]
    out["updated"] = sync.crons.update(nightly["cron_id"], schedule="30 4 * * 1-5", metadata={"owner": "bo"})
    out["search_metadata"] = [c["cron_id"] for c in sync.crons.search(metadata={"kind": "py-report"})]
    sorted_ids = [c["cron_id"] for c in sync.crons.search(assistant_id="agent", sort_by="created_at", sort_order="asc", limit=100)]
    out["sorted"] = [i for i in sorted_ids if i in (nightly["cron_id"], ticking["cron_id"])]
    out["select_keys"] = sorted(sync.crons.search(thread_id=thread_id, select=["cron_id", "schedule"])[0].keys())
    out["count_thread"] = sync.crons.count(thread_id=thread_id)
    out["count_metadata"] = sync.crons.count(metadata={"kind": "py-report"})
    sync.crons.delete(nightly["cron_id"])
    sync.crons.delete(ticking["cron_id"])
    out["count_after_delete"] = sync.crons.count(metadata={"kind": "py-report"}) + sync.crons.count(thread_id=thread_id)
    out["delete_again"] = observe(lambda: sync.crons.delete(nightly["cron_id"]))
    out["ids"] = [nightly["cron_id"], ticking["cron_id"]]
    return out


# ---------------------------------------------------------------- async client


async def async_checks():
    client = get_client(url=URL, api_key=None)
    out = {}
    thread_id = (await client.threads.create())["thread_id"]
    busy = await client.runs.create(thread_id, "agent", input=human("busy"), config=SLOW)
    for _ in range(600):
        if (await client.threads.get_state(thread_id))["values"].get("messages"):
            break
        await asyncio.sleep(0.05)
    try:
        await client.runs.create(thread_id, "agent", input=human("second"), multitask_strategy="reject")
        out["reject"] = {"raised": None}
    except Exception as err:
        out["reject"] = failure(err)
    await client.runs.cancel(thread_id, busy["run_id"], wait=True)

    async def collect(stream):
        return [{"event": p.event, "data": p.data} async for p in stream]

    async def bounded_async(coro):
        try:
            return {"result": await asyncio.wait_for(coro, STREAM_LIMIT)}
        except asyncio.TimeoutError:
            return {"timeout": STREAM_LIMIT}

    out["join_cancelled"] = await bounded_async(collect(client.runs.join_stream(thread_id, busy["run_id"])))
    live_thread = (await client.threads.create())["thread_id"]
    slowish = {"configurable": {"script": [{"content": "one two three four five six", "delay_ms": 1500}]}}
    live = await client.runs.create(live_thread, "agent", input=human("live"), config=slowish)
    # Joined while it runs, with no stream_mode: the SDK sends `?stream_mode=`, which means "not given".
    out["join_live"] = await bounded_async(collect(client.runs.join_stream(live_thread, live["run_id"])))
    out["join_live_status"] = (await client.runs.get(live_thread, live["run_id"]))["status"]
    tokens = await collect(client.runs.stream(None, "agent", input=human("async tokens"), stream_mode="messages-tuple"))
    out["token_types"] = [p["data"][0]["type"] for p in tokens if p["event"] == "messages"]
    debug = await collect(client.runs.stream(None, "agent", input=human("async debug"), stream_mode=["debug", "tasks"]))
    out["debug_types"] = [p["data"]["type"] for p in debug if p["event"] == "debug"]
    out["tasks"] = [p["data"] for p in debug if p["event"] == "tasks"]
    out["lifecycle"] = [p["event"] for p in await collect(client.runs.stream(None, "agent", input=human("x"), stream_mode="lifecycle"))]
    return out


CHECKS = {
    "join_stream": join_stream_checks,
    "reject": reject_checks,
    "replay": replay_checks,
    "stream_modes": stream_mode_checks,
    "breakpoint": breakpoint_checks,
    "protocol": protocol_checks,
    "empty_thread": empty_thread_checks,
    "remote_stream": remote_stream_checks,
    "crons": cron_checks,
}


def main():
    report = {name: observe(check) for name, check in CHECKS.items()}
    report["async"] = observe(lambda: asyncio.run(async_checks()))
    sys.stdout.write(json.dumps(report, default=str) + "\n")
    sys.stdout.flush()
    # Threads left behind by a stream that never ended must not keep the process alive.
    os._exit(0)


if __name__ == "__main__":
    main()
