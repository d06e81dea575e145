//! An OpenTelemetry collector's OTLP/HTTP trace receiver on loopback (`POST /v1/traces`,
//! protobuf), keeping every span it is sent, with everything a collector would store of it
//! (events, status, links, resource and scope attributes), and the export requests' headers. (`otelcol-contrib` is not packaged in Debian; the
//! wire format is the real one, decoded with the OTLP protobuf definitions.)

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message;

/// One received span, ids in lower-case hex as in `traceparent`.
#[derive(Clone, Debug)]
pub struct ReceivedSpan {
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    /// OTLP's `SpanKind`: 2 server, 3 client.
    pub kind: i32,
    pub attributes: Vec<(String, String)>,
    pub service_name: String,
    /// Span events (a `tracing` event inside a span becomes one): name and attributes.
    pub events: Vec<(String, Vec<(String, String)>)>,
    pub status_message: String,
    /// Each link: its trace and span ids, trace state and attributes, as text.
    pub links: Vec<String>,
    /// The resource's and the instrumentation scope's attributes, the span's trace state.
    pub context: Vec<(String, String)>,
}

impl ReceivedSpan {
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Everything the span carries, as one text (for "holds no secret" checks).
    pub fn all_text(&self) -> String {
        let kv = |pairs: &[(String, String)]| {
            pairs
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut out = format!(
            "{} [{}] status={:?} context=[{}]\n",
            self.name,
            kv(&self.attributes),
            self.status_message,
            kv(&self.context)
        );
        for (name, attrs) in &self.events {
            out.push_str(&format!("  event {name} [{}]\n", kv(attrs)));
        }
        for link in &self.links {
            out.push_str(&format!("  link {link}\n"));
        }
        out
    }
}

#[derive(Default)]
struct Received {
    spans: Vec<ReceivedSpan>,
    /// Every export request's headers, `name: value`.
    headers: Vec<String>,
}

pub struct Collector {
    pub port: u16,
    received: Arc<Mutex<Received>>,
    handle: actix_web::dev::ServerHandle,
}

impl Collector {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind collector");
        let port = listener.local_addr().expect("addr").port();
        let received = Arc::new(Mutex::new(Received::default()));
        let data = web::Data::from(received.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .route("/v1/traces", web::post().to(receive))
        })
        .workers(1)
        .listen(listener)
        .expect("listen collector")
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        Collector {
            port,
            received,
            handle,
        }
    }

    /// The base URL to configure as `[telemetry.otlp] endpoint`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.received.lock().expect("received").spans.clone()
    }

    /// The headers of every export request received so far, `name: value`.
    pub fn headers(&self) -> Vec<String> {
        self.received.lock().expect("received").headers.clone()
    }

    /// Polls (bounded) until `done` holds for the spans received so far; returns them.
    pub async fn wait_until(
        &self,
        done: impl Fn(&[ReceivedSpan]) -> bool,
        within: Duration,
    ) -> Vec<ReceivedSpan> {
        let deadline = Instant::now() + within;
        loop {
            let spans = self.spans();
            if done(&spans) {
                return spans;
            }
            assert!(
                Instant::now() < deadline,
                "the collector did not get the spans in time; it has: {:#?}",
                spans.iter().map(|s| &s.name).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    received: web::Data<Mutex<Received>>,
) -> HttpResponse {
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| format!("{k}: {}", String::from_utf8_lossy(v.as_bytes())))
        .collect::<Vec<_>>();
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return HttpResponse::BadRequest().finish();
    };
    let mut got = Vec::new();
    for resource in request.resource_spans {
        let resource_attrs: Vec<(String, String)> = resource
            .resource
            .as_ref()
            .map(|r| r.attributes.iter().map(pair).collect())
            .unwrap_or_default();
        let service_name = resource_attrs
            .iter()
            .find(|(k, _)| k == "service.name")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        for scope in resource.scope_spans {
            let mut context = resource_attrs.clone();
            if let Some(sc) = &scope.scope {
                context.push(("scope.name".into(), sc.name.clone()));
                context.push(("scope.version".into(), sc.version.clone()));
                context.extend(sc.attributes.iter().map(pair));
            }
            context.push(("schema_url".into(), scope.schema_url.clone()));
            for s in scope.spans {
                let mut context = context.clone();
                context.push(("trace_state".into(), s.trace_state.clone()));
                got.push(ReceivedSpan {
                    name: s.name,
                    trace_id: hex(&s.trace_id),
                    span_id: hex(&s.span_id),
                    parent_span_id: hex(&s.parent_span_id),
                    kind: s.kind,
                    attributes: s.attributes.iter().map(pair).collect(),
                    service_name: service_name.clone(),
                    events: s
                        .events
                        .iter()
                        .map(|e| (e.name.clone(), e.attributes.iter().map(pair).collect()))
                        .collect(),
                    status_message: s.status.map(|st| st.message).unwrap_or_default(),
                    links: s
                        .links
                        .iter()
                        .map(|l| {
                            let attrs: Vec<String> = l
                                .attributes
                                .iter()
                                .map(|kv| format!("{}={}", kv.key, text(&kv.value)))
                                .collect();
                            format!(
                                "{}-{} {} [{}]",
                                hex(&l.trace_id),
                                hex(&l.span_id),
                                l.trace_state,
                                attrs.join(" ")
                            )
                        })
                        .collect(),
                    context,
                });
            }
        }
    }
    let mut received = received.lock().expect("received");
    received.spans.extend(got);
    received.headers.extend(headers);
    HttpResponse::Ok()
        .content_type("application/x-protobuf")
        .body(Vec::new())
}

fn pair(kv: &KeyValue) -> (String, String) {
    (kv.key.clone(), text(&kv.value))
}

fn text(v: &Option<AnyValue>) -> String {
    match v.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
