"""The official Anthropic Python SDK against a running Sluice, unchanged but for base_url.

Usage: SLUICE_ROOT_URL=http://127.0.0.1:PORT python anthropic_sdk.py
Each check runs against an Anthropic provider (pass-through) and against an OpenAI-format
and a Gemini provider (translated).
"""
import os
import sys

import anthropic

client = anthropic.Anthropic(base_url=os.environ["SLUICE_ROOT_URL"], api_key="sk-anything", max_retries=0)
USER = [{"role": "user", "content": "hello sdk"}]
TOOLS = [{"name": "get_weather", "description": "Weather", "input_schema": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]
passed = 0


def check(name, cond, detail=""):
    global passed
    if not cond:
        print(f"FAIL {name}: {detail}")
        sys.exit(1)
    passed += 1
    print(f"ok   {name}")


for model in ["claude-sonnet-4-5", "gpt-4o", "gemini-2.5-flash"]:
    m = client.messages.create(model=model, max_tokens=100, system="be brief", messages=USER)
    check(f"{model}: messages.create", m.content[0].text == "Mock reply to: hello sdk", m)
    check(f"{model}: usage", m.usage.input_tokens > 0 and m.usage.output_tokens > 0, m.usage)

    with client.messages.stream(model=model, max_tokens=100, messages=USER) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    check(f"{model}: messages.stream", text == "Mock reply to: hello sdk", text)
    check(f"{model}: stream final message", final.stop_reason == "end_turn" and final.usage.output_tokens > 0, final)

    m = client.messages.create(model=model, max_tokens=100, messages=USER, tools=TOOLS)
    tool = next(b for b in m.content if b.type == "tool_use")
    check(f"{model}: tool_use", tool.name == "get_weather" and tool.input == {"city": "mock"} and m.stop_reason == "tool_use", m)

    with client.messages.stream(model=model, max_tokens=100, messages=USER, tools=TOOLS) as stream:
        final = stream.get_final_message()
    tool = next(b for b in final.content if b.type == "tool_use")
    check(f"{model}: streamed tool_use", tool.input == {"city": "mock"}, final)

    m = client.messages.create(model=model, max_tokens=100, tools=TOOLS, messages=[
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "22C"}]}])
    check(f"{model}: tool_result turn", "22C" in m.content[0].text, m)

try:
    client.messages.create(model="no-such-model", max_tokens=10, messages=USER)
    check("unknown model raises NotFoundError", False, "no exception")
except anthropic.NotFoundError as err:
    check("unknown model raises NotFoundError", err.body["type"] == "error", err.body)

try:
    client.messages.create(model="claude-sonnet-4-5@status=429", max_tokens=10, messages=USER)
    check("upstream 429 raises RateLimitError", False, "no exception")
except anthropic.RateLimitError:
    check("upstream 429 raises RateLimitError", True)

try:
    client.messages.create(model="gpt-4o@status=429", max_tokens=10, messages=USER)
    check("translated upstream 429 raises RateLimitError", False, "no exception")
except anthropic.RateLimitError:
    check("translated upstream 429 raises RateLimitError", True)

try:
    with client.messages.stream(model="gpt-4o@chunks=10,cut_after=3", max_tokens=100, messages=USER) as stream:
        "".join(stream.text_stream)
    check("broken translated stream raises APIError", False, "stream finished cleanly")
except anthropic.APIError:
    check("broken translated stream raises APIError", True)

print(f"{passed} passed, 0 failed")
