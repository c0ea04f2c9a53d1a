//! The conformance suite: one set of checks, instantiated for every (ingress format,
//! provider kind) pair, against the mock provider over HTTP. Faults are injected through
//! the model name (`model@status=503`), which survives every translation.

use crate::ingress::{Client, Turn};
use crate::support::{Harness, read_sse, start_with};
use serde_json::{Value, json};

/// Every provider kind behind one mock; `<kind>-*` models route to that kind and forward
/// the requested name (suffix included) upstream.
pub const CONFIG: &str = r#"
[server]
listen = "127.0.0.1:0"
[providers.openai]
kind = "openai-compatible"
base_url = "${MOCK_URL}"
api_key = "sk-upstream-secret-key-123456"
[providers.anthropic]
kind = "anthropic"
base_url = "${MOCK_ROOT}/v1"
api_key = "sk-ant-upstream-secret-123456"
[providers.gemini]
kind = "gemini"
base_url = "${MOCK_ROOT}/v1beta"
api_key = "AIzaUpstreamSecret123456"
[providers.azure]
kind = "azure"
base_url = "${MOCK_ROOT}/openai"
api_key = "azure-upstream-secret-123456"
[[models]]
name = "openai-*"
targets = [{ provider = "openai" }]
[[models]]
name = "anthropic-*"
targets = [{ provider = "anthropic" }]
[[models]]
name = "gemini-*"
targets = [{ provider = "gemini" }]
[[models]]
name = "azure-*"
targets = [{ provider = "azure" }]
"#;

const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

pub struct Pair {
    pub client: Client,
    pub kind: &'static str,
}

impl Pair {
    fn model(&self, suffix: &str) -> String {
        format!("{}-model{suffix}", self.kind)
    }

    async fn harness(&self) -> Harness {
        start_with(CONFIG).await
    }

    async fn call(&self, h: &Harness, body: &Value) -> (u16, Value) {
        let response = self.client.send(h, body).await;
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        assert_no_secret(&text);
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn stream(&self, h: &Harness, body: &Value) -> crate::support::Seen {
        let response = self.client.send(h, body).await;
        assert_eq!(
            response.status(),
            200,
            "stream status for {}/{}",
            self.client_name(),
            self.kind
        );
        let seen = read_sse(response).await;
        assert_no_secret(&seen.data().join("\n"));
        seen
    }

    /// A non-stream request for `self.model(suffix)` with `turns`.
    async fn ask(&self, h: &Harness, suffix: &str, turns: &[Turn<'_>]) -> (u16, Value) {
        let body = self.client.request(&self.model(suffix), turns, false);
        self.call(h, &body).await
    }

    fn client_name(&self) -> &'static str {
        match self.client {
            Client::OpenAi => "openai",
            Client::Anthropic => "anthropic",
            Client::Responses => "responses",
        }
    }

    pub async fn simple(&self) {
        let h = self.harness().await;
        let (status, body) = self.ask(&h, "", &[Turn::User("hello")]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(self.client.text(&body), "Mock reply to: hello");
    }

    pub async fn stream_text(&self) {
        let h = self.harness().await;
        let seen = self
            .stream(
                &h,
                &self
                    .client
                    .request(&self.model(""), &[Turn::User("hello")], true),
            )
            .await;
        assert_eq!(self.client.stream_text(&seen), "Mock reply to: hello");
        assert!(self.client.stream_complete(&seen), "{:?}", seen.data());
    }

    pub async fn multi_turn(&self) {
        let h = self.harness().await;
        let turns = [
            Turn::User("first"),
            Turn::Assistant("Mock reply to: first"),
            Turn::User("third"),
        ];
        let (status, body) = self.ask(&h, "", &turns).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(self.client.text(&body), "Mock reply to: third");
        let upstream = String::from_utf8_lossy(&h.mock.stats().last_request().expect("seen").body)
            .into_owned();
        assert!(
            upstream.contains("first") && upstream.contains(crate::ingress::SYSTEM),
            "{upstream}"
        );
    }

    pub async fn tool_call(&self) {
        let h = self.harness().await;
        let body = self.client.with_tools(self.client.request(
            &self.model(""),
            &[Turn::User("weather?")],
            false,
        ));
        let (status, reply) = self.call(&h, &body).await;
        assert_eq!(status, 200, "{reply}");
        assert_eq!(
            self.client.tool_calls(&reply),
            [("get_weather".to_owned(), json!({"city": "mock"}))]
        );
    }

    pub async fn streamed_tool_call(&self) {
        let h = self.harness().await;
        let body = self.client.with_tools(self.client.request(
            &self.model(""),
            &[Turn::User("weather?")],
            true,
        ));
        let seen = self.stream(&h, &body).await;
        assert_eq!(
            self.client.stream_tool_calls(&seen),
            [("get_weather".to_owned(), json!({"city": "mock"}))]
        );
        assert!(self.client.stream_complete(&seen), "{:?}", seen.data());
    }

    pub async fn tool_result(&self) {
        let h = self.harness().await;
        let turns = [
            Turn::User("weather?"),
            Turn::ToolCall {
                id: "call_1",
                name: "get_weather",
                args: json!({"city": "Paris"}),
            },
            Turn::ToolResult {
                id: "call_1",
                content: "22C",
            },
        ];
        let body = self
            .client
            .with_tools(self.client.request(&self.model(""), &turns, false));
        let (status, reply) = self.call(&h, &body).await;
        assert_eq!(status, 200, "{reply}");
        let text = self.client.text(&reply);
        assert!(
            text.starts_with("Mock reply to tool result:") && text.contains("22C"),
            "{text}"
        );
    }

    pub async fn image(&self) {
        let h = self.harness().await;
        let turns = [Turn::UserImage {
            text: "what is this",
            png_base64: PNG,
        }];
        let (status, body) = self.ask(&h, "", &turns).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(self.client.text(&body), "Mock reply to: what is this");
        let upstream = String::from_utf8_lossy(&h.mock.stats().last_request().expect("seen").body)
            .into_owned();
        assert!(
            upstream.contains(PNG),
            "image did not reach the provider: {upstream}"
        );
    }

    pub async fn usage(&self) {
        let h = self.harness().await;
        let (_, body) = self.ask(&h, "", &[Turn::User("count me")]).await;
        let (input, output) = self.client.usage(&body);
        assert!(
            input > 0 && output > 0,
            "non-stream usage {input}/{output}: {body}"
        );
        let seen = self
            .stream(
                &h,
                &self
                    .client
                    .request(&self.model(""), &[Turn::User("count me")], true),
            )
            .await;
        let (input, output) = self.client.stream_usage(&seen);
        assert!(
            input > 0 && output > 0,
            "stream usage {input}/{output}: {:?}",
            seen.data()
        );
    }

    pub async fn error_mapping(&self) {
        let h = self.harness().await;
        for (fault, expected) in [
            ("@status=429", 429),
            ("@status=400", 400),
            ("@status=500", 502),
        ] {
            let (status, body) = self.ask(&h, fault, &[Turn::User("x")]).await;
            assert_eq!(status, expected, "{fault}: {body}");
            let (kind, message) = self.client.error(&body);
            assert!(!kind.is_empty() && !message.is_empty(), "{fault}: {body}");
        }
    }

    pub async fn bad_auth(&self) {
        let h = self.harness().await;
        let (status, body) = self.ask(&h, "@status=401", &[Turn::User("x")]).await;
        assert_eq!(status, 502, "{body}");
        let (_, message) = self.client.error(&body);
        assert!(message.contains("401"), "{message}");
    }

    pub async fn broken_stream(&self) {
        let h = self.harness().await;
        let seen = self
            .stream(
                &h,
                &self.client.request(
                    &self.model("@chunks=10,cut_after=3"),
                    &[Turn::User("x")],
                    true,
                ),
            )
            .await;
        assert!(
            !self.client.stream_complete(&seen),
            "a cut stream must not look complete"
        );
        assert!(
            self.client.stream_error(&seen),
            "no error event: {:?}",
            seen.data()
        );
    }
}

fn assert_no_secret(text: &str) {
    for secret in ["upstream-secret", "UpstreamSecret"] {
        assert!(!text.contains(secret), "secret leaked: {text}");
    }
}

macro_rules! pair {
    ($name:ident, $client:expr, $kind:literal) => {
        mod $name {
            use super::Pair;
            use crate::ingress::Client;
            const PAIR: Pair = Pair {
                client: $client,
                kind: $kind,
            };
            #[tokio::test]
            async fn simple() {
                PAIR.simple().await
            }
            #[tokio::test]
            async fn stream() {
                PAIR.stream_text().await
            }
            #[tokio::test]
            async fn multi_turn() {
                PAIR.multi_turn().await
            }
            #[tokio::test]
            async fn tool_call() {
                PAIR.tool_call().await
            }
            #[tokio::test]
            async fn streamed_tool_call() {
                PAIR.streamed_tool_call().await
            }
            #[tokio::test]
            async fn tool_result() {
                PAIR.tool_result().await
            }
            #[tokio::test]
            async fn image() {
                PAIR.image().await
            }
            #[tokio::test]
            async fn usage() {
                PAIR.usage().await
            }
            #[tokio::test]
            async fn error_mapping() {
                PAIR.error_mapping().await
            }
            #[tokio::test]
            async fn bad_auth() {
                PAIR.bad_auth().await
            }
            #[tokio::test]
            async fn broken_stream() {
                PAIR.broken_stream().await
            }
        }
    };
}

pair!(openai_to_openai, Client::OpenAi, "openai");
pair!(openai_to_anthropic, Client::OpenAi, "anthropic");
pair!(openai_to_gemini, Client::OpenAi, "gemini");
pair!(openai_to_azure, Client::OpenAi, "azure");
pair!(anthropic_to_openai, Client::Anthropic, "openai");
pair!(anthropic_to_anthropic, Client::Anthropic, "anthropic");
pair!(anthropic_to_gemini, Client::Anthropic, "gemini");
pair!(anthropic_to_azure, Client::Anthropic, "azure");
pair!(responses_to_openai, Client::Responses, "openai");
pair!(responses_to_anthropic, Client::Responses, "anthropic");
pair!(responses_to_gemini, Client::Responses, "gemini");
pair!(responses_to_azure, Client::Responses, "azure");
