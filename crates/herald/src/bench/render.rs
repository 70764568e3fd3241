//! `herald bench render`: email rendering throughput — a stored template's parts checked once,
//! then rendered for many people (Liquid: the subject, and an MJML body with a loop over the
//! event's products and a snippet; MJML compiled to HTML), on every core. The target in
//! PRODUCT.md is ≥ 5,000 emails/s including the hand-off to SMTP; this measures the render.
//! Each output is checked for its person's name and products: the run fails if one is wrong.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use clap::Args;
use herald_messaging::template::{context, Content, Person, Target};
use herald_messaging::Channel;
use serde_json::{json, Map, Value};

#[derive(Args)]
pub struct RenderArgs {
    /// Emails to render in all.
    #[arg(long, default_value_t = 100_000)]
    pub emails: usize,
    /// Threads rendering at once (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
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

pub fn run(args: RenderArgs) -> anyhow::Result<()> {
    let emails = if args.smoke { 2_000 } else { args.emails };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let content = Content {
        subject: Some(
            "{{ traits.first_name }}, your order #{{ event.properties.order_id }}".into(),
        ),
        preheader: None,
        title: None,
        body: BODY.into(),
        text: None,
        format: Some(herald_messaging::template::Format::Mjml),
        strict: false,
    };
    let checked = content
        .check(Target::Channel(Channel::Email))
        .map_err(|e| anyhow::anyhow!("the benchmark's template does not check: {e}"))?;
    let partials = HashMap::from([("footer".to_owned(), FOOTER.to_owned())]);
    let now = Utc::now();
    println!(
        "rendering {emails} emails (Liquid subject; Liquid + MJML body) on {threads} thread(s)"
    );
    let started = Instant::now();
    let per_thread: Vec<anyhow::Result<(Vec<Duration>, usize)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let checked = &checked;
                let partials = &partials;
                scope.spawn(move || -> anyhow::Result<(Vec<Duration>, usize)> {
                    let mut times = Vec::new();
                    let mut bytes = 0;
                    for i in (t..emails).step_by(threads) {
                        let (who, event) = person(i);
                        let ctx = context(Some(&who), Some(&event), json!({"id": i}));
                        let one = Instant::now();
                        let out = checked
                            .render(&ctx, partials, now)
                            .map_err(|e| anyhow::anyhow!("email {i}: {e}"))?;
                        times.push(one.elapsed());
                        let body = &out.parts["body"];
                        let expected = format!("Person{i}, your order #{i}");
                        if out.parts["subject"] != expected
                            || !body.contains(&format!("Hi Person{i},"))
                            || !body.contains(&format!("Product 0 &lt;{i}&gt;"))
                            || !body.starts_with("<!doctype html>")
                        {
                            anyhow::bail!("email {i} rendered wrong: {}", out.parts["subject"]);
                        }
                        bytes += body.len();
                    }
                    Ok((times, bytes))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a render thread panicked")))
            })
            .collect()
    });
    let elapsed = started.elapsed();
    let mut times = Vec::with_capacity(emails);
    let mut bytes = 0;
    for r in per_thread {
        let (t, b) = r?;
        times.extend(t);
        bytes += b;
    }
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    println!(
        "{emails} emails in {:.2} s: {:.0} emails/s; per email p50 {:.0} µs, p99 {:.0} µs; {:.1} KB of HTML each",
        elapsed.as_secs_f64(),
        emails as f64 / elapsed.as_secs_f64(),
        at(0.5).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        bytes as f64 / emails as f64 / 1024.0
    );
    Ok(())
}
