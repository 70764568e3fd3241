//! `herald bench render`: email rendering throughput — a template's parts checked once, then
//! rendered for many people (Liquid: the subject, and an MJML body with a loop over the
//! event's products and a snippet; MJML compiled to HTML), on every core. With `--smtp`, each
//! email is also handed to SMTP through Herald's SMTP provider (pooled connections) to an
//! in-process sink on loopback: the PRODUCT.md target, ≥ 5,000 emails/s rendered and handed
//! off. Each output is checked for its person's name and products, and with `--smtp` the sink
//! must have received every email: the run fails otherwise.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use clap::Args;
use herald_channels::email::smtp::{SmtpConfig, SmtpProvider};
use herald_channels::{Outbound, Provider};
use herald_messaging::message::{MessageId, SourceKind};
use herald_messaging::template::{context, Checked, Content, Format, Person, Rendered, Target};
use herald_messaging::Channel;
use serde_json::{json, Map, Value};

use super::smtp_sink;

#[derive(Args)]
pub struct RenderArgs {
    /// Emails to render in all.
    #[arg(long, default_value_t = 100_000)]
    pub emails: usize,
    /// Threads rendering at once (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also hand every email to SMTP (an in-process sink), through the SMTP provider.
    #[arg(long)]
    pub smtp: bool,
    /// SMTP connections kept open (`--smtp`).
    #[arg(long, default_value_t = 8)]
    pub connections: u32,
    /// The template has its own plain-text part (otherwise it is made from the HTML, which
    /// costs a parse of each email's HTML).
    #[arg(long)]
    pub text: bool,
    /// A short run for CI: 2,000 emails; checks every output.
    #[arg(long)]
    pub smoke: bool,
}

const BODY: &str = r##"<mjml>
  <mj-head><mj-title>Your order</mj-title><mj-preview>{{ event.properties.products | size }} items</mj-preview></mj-head>
  <mj-body background-color="#f4f4f4">
    <mj-section><mj-column>
      <mj-text font-size="20px">Hi {{ traits.first_name | default: "there" }},</mj-text>
      <mj-text>Thanks for your order #{{ event.properties.order_id }}. Here is what you bought:</mj-text>
    </mj-column></mj-section>
    {% for p in event.properties.products %}
    <mj-section><mj-column width="70%"><mj-text>{{ p.name | escape }}</mj-text></mj-column>
      <mj-column width="30%"><mj-text align="right">{{ p.price | times: p.quantity | round: 2 }} €</mj-text></mj-column></mj-section>
    {% endfor %}
    <mj-section><mj-column>
      <mj-button href="https://shop.example.com/orders/{{ event.properties.order_id }}">View your order</mj-button>
      {% render 'footer', traits: traits %}
    </mj-column></mj-section>
  </mj-body>
</mjml>"##;

/// The plain-text part, for `--text`.
const TEXT: &str = "Hi {{ traits.first_name | default: \"there\" }},\n\nThanks for your order #{{ event.properties.order_id }}:\n{% for p in event.properties.products %}- {{ p.name }}: {{ p.price | times: p.quantity | round: 2 }} €\n{% endfor %}\nhttps://shop.example.com/orders/{{ event.properties.order_id }}\n";

const FOOTER: &str = r##"<mj-text font-size="11px" color="#888">You get this as a {{ traits.plan | default: "free" }} customer. {{ "now" | date: "%Y" }} Example Shop.</mj-text>"##;

fn person(i: usize) -> (Person, Value) {
    let mut traits = Map::new();
    traits.insert("first_name".into(), json!(format!("Person{i}")));
    traits.insert("plan".into(), json!(["free", "pro", "team"][i % 3]));
    let products: Vec<Value> = (0..1 + i % 4)
        .map(|k| json!({"name": format!("Product {k} <{i}>"), "price": 9.5 + k as f64, "quantity": 1 + k}))
        .collect();
    let event =
        json!({"event": "Order Completed", "properties": {"order_id": i, "products": products}});
    (
        Person {
            id: format!("p{i}"),
            traits,
            ..Person::default()
        },
        event,
    )
}

/// The benchmark's template, checked, and its snippet.
fn template(text: bool) -> anyhow::Result<(Checked, HashMap<String, String>)> {
    let content = Content {
        subject: Some(
            "{{ traits.first_name }}, your order #{{ event.properties.order_id }}".into(),
        ),
        preheader: None,
        title: None,
        body: BODY.into(),
        text: text.then(|| TEXT.to_owned()),
        format: Some(Format::Mjml),
        strict: false,
    };
    let checked = content
        .check(Target::Channel(Channel::Email))
        .map_err(|e| anyhow::anyhow!("the benchmark's template does not check: {e}"))?;
    Ok((
        checked,
        HashMap::from([("footer".to_owned(), FOOTER.to_owned())]),
    ))
}

/// Email `i`, rendered and checked.
fn render(
    checked: &Checked,
    partials: &HashMap<String, String>,
    now: DateTime<Utc>,
    i: usize,
) -> anyhow::Result<Rendered> {
    let (who, event) = person(i);
    let ctx = context(Some(&who), Some(&event), json!({"id": i}));
    let out = checked
        .render(&ctx, partials, now)
        .map_err(|e| anyhow::anyhow!("email {i}: {e}"))?;
    let body = &out.parts["body"];
    if out.parts["subject"] != format!("Person{i}, your order #{i}")
        || !body.contains(&format!("Hi Person{i},"))
        || !body.contains(&format!("Product 0 &lt;{i}&gt;"))
        || !body.starts_with("<!doctype html>")
    {
        anyhow::bail!("email {i} rendered wrong: {}", out.parts["subject"]);
    }
    Ok(out)
}

fn report(what: &str, emails: usize, elapsed: Duration, mut times: Vec<Duration>, bytes: usize) {
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{emails} emails {what} in {:.2} s: {:.0} emails/s; render p50 {:.0} µs, p99 {:.0} µs; {:.1} KB of HTML each",
        elapsed.as_secs_f64(),
        emails as f64 / elapsed.as_secs_f64(),
        at(0.5).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        bytes as f64 / emails as f64 / 1024.0
    );
}

pub async fn run(args: RenderArgs) -> anyhow::Result<()> {
    let emails = if args.smoke { 2_000 } else { args.emails };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let (checked, partials) = template(args.text)?;
    let (checked, partials) = (Arc::new(checked), Arc::new(partials));
    let now = Utc::now();
    let sink = if args.smtp {
        Some(smtp_sink::start().await?)
    } else {
        None
    };
    let provider = match &sink {
        None => None,
        Some(sink) => {
            let config: SmtpConfig = serde_json::from_value(json!({
                "host": "127.0.0.1", "port": sink.port, "security": "none",
                "from": "Bench <bench@herald.test>", "pool_size": args.connections,
            }))?;
            Some(Arc::new(
                SmtpProvider::new(&config).map_err(|e| anyhow::anyhow!("{e}"))?,
            ))
        }
    };
    println!(
        "rendering {emails} emails (Liquid subject; Liquid + MJML body) on {threads} thread(s){}",
        if args.smtp {
            format!(", handed to SMTP over {} connection(s)", args.connections)
        } else {
            String::new()
        }
    );
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(usize, Rendered)>(1024);
    let started = Instant::now();
    let renderers: Vec<_> = (0..threads)
        .map(|t| {
            let (checked, partials, tx) = (checked.clone(), partials.clone(), tx.clone());
            let handoff = args.smtp;
            tokio::task::spawn_blocking(move || -> anyhow::Result<(Vec<Duration>, usize)> {
                let mut times = Vec::new();
                let mut bytes = 0;
                for i in (t..emails).step_by(threads) {
                    let one = Instant::now();
                    let out = render(&checked, &partials, now, i)?;
                    times.push(one.elapsed());
                    bytes += out.parts["body"].len();
                    if handoff && tx.blocking_send((i, out)).is_err() {
                        anyhow::bail!("the SMTP hand-off stopped");
                    }
                }
                Ok((times, bytes))
            })
        })
        .collect();
    drop(tx);
    let mut failures = Vec::new();
    if let Some(provider) = &provider {
        let mut sending = tokio::task::JoinSet::new();
        while let Some((i, out)) = rx.recv().await {
            while sending.len() >= 4 * args.connections as usize {
                if let Some(Ok(Err(e))) = sending.join_next().await {
                    failures.push(e);
                }
            }
            let provider = provider.clone();
            sending.spawn(async move {
                let outbound = Outbound {
                    message_id: MessageId::derive(
                        SourceKind::Api,
                        "bench",
                        uuid::Uuid::nil(),
                        &i.to_string(),
                    ),
                    channel: Channel::Email,
                    to: format!("person{i}@example.com"),
                    parts: out
                        .parts
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect(),
                    marketing: false,
                    unsubscribe_url: None,
                    metadata: json!({}),
                };
                provider
                    .send(&outbound)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("email {i}: {e}"))
            });
        }
        while let Some(done) = sending.join_next().await {
            if let Ok(Err(e)) = done {
                failures.push(e);
            }
        }
    }
    let mut times = Vec::with_capacity(emails);
    let mut bytes = 0;
    for r in renderers {
        let (t, b) = r.await??;
        times.extend(t);
        bytes += b;
    }
    let elapsed = started.elapsed();
    if let Some(first) = failures.first() {
        anyhow::bail!(
            "{} email(s) not handed off; the first: {first}",
            failures.len()
        );
    }
    match &sink {
        None => report("rendered", emails, elapsed, times, bytes),
        Some(sink) => {
            let received = sink.received.load(std::sync::atomic::Ordering::Relaxed);
            if received != emails {
                anyhow::bail!("the SMTP sink received {received} of {emails} emails");
            }
            report("rendered and handed to SMTP", emails, elapsed, times, bytes);
        }
    }
    Ok(())
}
