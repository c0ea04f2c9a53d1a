"""The official OpenAI Python SDK against a running Sluice, unchanged but for base_url.

Usage: SLUICE_BASE_URL=http://127.0.0.1:PORT/v1 python openai_sdk.py
Exits non-zero on the first failed check; prints one line per check.
"""
import base64
import json
import os
import sys

import openai
from openai import OpenAI

client = OpenAI(base_url=os.environ["SLUICE_BASE_URL"], api_key="sk-anything", max_retries=0)
USER = [{"role": "user", "content": "hello sdk"}]
passed = 0


def check(name, cond, detail=""):
    global passed
    if not cond:
        print(f"FAIL {name}: {detail}")
        sys.exit(1)
    passed += 1
    print(f"ok   {name}")


r = client.chat.completions.create(model="gpt-4o", messages=USER)
check("chat non-stream", r.choices[0].message.content == "Mock reply to: hello sdk", r)
check("chat usage", r.usage is not None and r.usage.total_tokens > 0, r.usage)

raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=USER)
check("sluice headers", raw.headers.get("x-sluice-provider") == "mock" and raw.headers.get("x-request-id"), dict(raw.headers))

chunks = list(client.chat.completions.create(model="gpt-4o", messages=USER, stream=True))
text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
check("chat stream", text == "Mock reply to: hello sdk", text)

chunks = list(client.chat.completions.create(
    model="gpt-4o", messages=USER, stream=True, stream_options={"include_usage": True}))
check("stream include_usage", chunks[-1].usage is not None and chunks[-1].choices == [], chunks[-1])

tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
r = client.chat.completions.create(model="gpt-4o", messages=USER, tools=tools)
call = r.choices[0].message.tool_calls[0]
check("tools", call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "mock"}, r)

args = {}
for c in client.chat.completions.create(model="gpt-4o", messages=USER, tools=tools, stream=True):
    for tc in (c.choices[0].delta.tool_calls or []) if c.choices else []:
        args[tc.index] = args.get(tc.index, "") + (tc.function.arguments or "")
check("streamed tool call", json.loads(args[0]) == {"city": "mock"}, args)

r = client.chat.completions.create(model="gpt-4o", messages=USER, response_format={"type": "json_object"})
check("response_format json_object", isinstance(json.loads(r.choices[0].message.content), dict), r)

img = [{"role": "user", "content": [
    {"type": "text", "text": "what is this"},
    {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(b"\x89PNG").decode()}}]}]
r = client.chat.completions.create(model="gpt-4o", messages=img)
check("image content parts", r.choices[0].message.content.startswith("Mock reply to:"), r)

e = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
check("embeddings (SDK default base64)", len(e.data) == 2 and len(e.data[0].embedding) > 0, e)

ids = [m.id for m in client.models.list()]
check("models.list", "gpt-4o" in ids, ids)

try:
    client.chat.completions.create(model="no-such-model", messages=USER)
    check("unknown model raises NotFoundError", False, "no exception")
except openai.NotFoundError as err:
    check("unknown model raises NotFoundError", err.code == "model_not_found", err)

try:
    client.chat.completions.create(model="gpt-4o", messages=USER, extra_body={"mock": {"status": 429, "retry_after": 1}})
    check("upstream 429 raises RateLimitError", False, "no exception")
except openai.RateLimitError:
    check("upstream 429 raises RateLimitError", True)

try:
    client.chat.completions.create(model="gpt-4o", messages=USER, extra_body={"mock": {"status": 503}})
    check("upstream 503 raises InternalServerError", False, "no exception")
except openai.InternalServerError as err:
    check("upstream 503 raises InternalServerError", err.status_code == 503, err)

try:
    stream = client.chat.completions.create(
        model="gpt-4o", messages=USER, stream=True, extra_body={"mock": {"chunks": 10, "cut_after": 3}})
    list(stream)
    check("broken stream raises APIError", False, "stream finished cleanly")
except openai.APIError as err:
    check("broken stream raises APIError", "interrupted" in str(err) or "ended" in str(err), err)

for model in ["gpt-4o", "claude-sonnet-4-5", "gemini-2.5-flash"]:
    r = client.chat.completions.create(model=model, messages=USER)
    check(f"{model}: chat via translation", r.choices[0].message.content == "Mock reply to: hello sdk", r)
    chunks = list(client.chat.completions.create(
        model=model, messages=USER, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    check(f"{model}: stream via translation", text == "Mock reply to: hello sdk" and chunks[-1].usage is not None, text)

    r = client.responses.create(model=model, instructions="be brief", input="hello sdk")
    check(f"{model}: responses.create", r.output_text == "Mock reply to: hello sdk" and r.usage.total_tokens > 0, r)
    events = list(client.responses.create(model=model, input="hello sdk", stream=True))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    check(f"{model}: responses stream", deltas == "Mock reply to: hello sdk" and events[-1].type == "response.completed", [e.type for e in events])
    r = client.responses.create(model=model, input="weather?", tools=[{"type": "function", "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}])
    call = next(o for o in r.output if o.type == "function_call")
    check(f"{model}: responses function call", json.loads(call.arguments) == {"city": "mock"}, r)

try:
    client.responses.create(model="gpt-4o", input="x", previous_response_id="resp_123")
    check("previous_response_id is a clear 400", False, "no exception")
except openai.BadRequestError as err:
    check("previous_response_id is a clear 400", "previous_response_id" in str(err), err)

print(f"{passed} passed, 0 failed")
