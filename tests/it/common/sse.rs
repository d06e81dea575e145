//! [`EventStream`]: the reading end of `GET /auth/events`, as an SPA's `fetch` reader sees it.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;

pub struct EventStream {
    body: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: String,
}

impl EventStream {
    pub fn new(res: reqwest::Response) -> Self {
        assert_eq!(res.status(), 200, "the event stream opens");
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        EventStream {
            body: res.bytes_stream().boxed(),
            buf: String::new(),
        }
    }

    /// The next event (name and JSON data) within `within`; comments (keep-alives) and the
    /// retry hint are skipped. `None`: none came, or the stream ended.
    pub async fn next(&mut self, within: Duration) -> Option<(String, Value)> {
        tokio::time::timeout(within, self.read_event())
            .await
            .ok()
            .flatten()
    }

    async fn read_event(&mut self) -> Option<(String, Value)> {
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut name = None;
                let mut data = None;
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event: ") {
                        name = Some(n.to_owned());
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data = serde_json::from_str(d).ok();
                    }
                }
                if let Some(name) = name {
                    return Some((name, data.unwrap_or(Value::Null)));
                }
            }
            let chunk = self.body.next().await?.ok()?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// True when the server closed the stream within `within` (whatever it sent before).
    pub async fn closed(&mut self, within: Duration) -> bool {
        let drained = async {
            while let Some(Ok(chunk)) = self.body.next().await {
                self.buf.push_str(&String::from_utf8_lossy(&chunk));
            }
        };
        tokio::time::timeout(within, drained).await.is_ok()
    }
}
