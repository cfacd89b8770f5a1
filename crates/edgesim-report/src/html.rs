//! `index.html`: one self-contained page (inline CSS and SVG, no scripts,
//! nothing fetched) with the scenario, headline numbers, every plot and
//! the per-PoP, per-country, per-region and per-origin tables. All text
//! that comes from the scenario is HTML-escaped.

use std::fmt::Write as _;

use plotters::style::RGBColor;

use crate::plot::entity_colour;
use crate::summary::{LatencyMs, Summary};

/// A plot as drawn for the report.
#[derive(Debug, Clone)]
pub struct RenderedPlot {
    /// File stem (`<name>.svg`, `<name>.png`), also the HTML anchor.
    pub name: String,
    /// Short title.
    pub title: String,
    /// How to read it (plain text, escaped when written).
    pub caption: String,
    /// The SVG document.
    pub svg: String,
}

/// `text` with `& < > " '` replaced by entities, safe in element content
/// and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// 1234567 as "1,234,567".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A ratio as a percentage; two decimals near 100% where one would round
/// a miss rate away.
fn pct(ratio: f64) -> String {
    let p = ratio * 100.0;
    if (p > 99.0 && p < 100.0) || (p > 0.0 && p < 1.0) {
        format!("{p:.2}%")
    } else {
        format!("{p:.1}%")
    }
}

/// Milliseconds with about three significant digits.
fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2} ms")
    } else if v < 100.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.0} ms")
    }
}

/// Bytes in binary units, as scenario files write cache sizes.
fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.2} {}", UNITS[unit])
    }
}

fn seconds(s: f64) -> String {
    if s >= 3600.0 {
        format!("{:.0} s ({:.1} h)", s, s / 3600.0)
    } else if s >= 120.0 {
        format!("{:.0} s ({:.1} min)", s, s / 60.0)
    } else {
        format!("{s} s")
    }
}

/// "1 origin", "3 origins", "2 countries".
fn plural(n: usize, noun: &str) -> String {
    let noun = match (n, noun.strip_suffix('y')) {
        (1, _) => noun.to_owned(),
        (_, Some(stem)) => format!("{stem}ies"),
        _ => format!("{noun}s"),
    };
    format!("{} {noun}", thousands(n as u64))
}

/// Bytes per second in binary units, like [`bytes`].
fn byte_rate(per_sec: f64) -> String {
    bytes(per_sec.round() as u64) + "/s"
}

fn swatch(colour: RGBColor) -> String {
    let RGBColor(r, g, b) = colour;
    format!(r#"<span class="sw" style="background:#{r:02x}{g:02x}{b:02x}"></span>"#)
}

const CSS: &str = r#"
:root { color-scheme: light; }
body { font: 15px/1.45 -apple-system, "Segoe UI", "DejaVu Sans", Helvetica, Arial, sans-serif; color: #1d2329; margin: 0; background: #f4f6f8; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 36px 0 10px; padding-top: 8px; border-top: 2px solid #e3e8ee; }
p.desc { font-size: 17px; margin: 4px 0 10px; color: #37414b; }
p.meta { color: #56616c; margin: 0 0 14px; }
.warn { background: #fff4e0; border: 1px solid #e6a23c; padding: 8px 12px; border-radius: 4px; }
nav { font-size: 14px; color: #56616c; margin: 10px 0 0; }
nav a { margin-right: 12px; white-space: nowrap; }
a { color: #1f63a6; }
table { border-collapse: collapse; margin: 6px 0 8px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 12px; border-bottom: 1px solid #e3e8ee; text-align: left; vertical-align: top; }
th { background: #eef2f6; font-weight: 600; white-space: nowrap; }
td.n, th.n { text-align: right; white-space: nowrap; }
tbody tr:nth-child(even) { background: #f8fafc; }
table.headline td:first-child { font-weight: 600; white-space: nowrap; }
table.headline td.n { font-size: 17px; }
td.note { color: #56616c; font-size: 14px; }
.sw { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
figure { margin: 18px 0 26px; }
figure svg { display: block; width: 100%; height: auto; border: 1px solid #e3e8ee; }
figcaption { color: #37414b; font-size: 14px; margin-top: 6px; max-width: 1000px; }
figcaption b { color: #1d2329; }
footer { margin-top: 40px; color: #56616c; font-size: 13px; }
"#;

/// The report page for `summary` and its drawn `plots`.
pub fn index_html(summary: &Summary, plots: &[RenderedPlot]) -> String {
    let mut h = String::with_capacity(64 * 1024 + plots.iter().map(|p| p.svg.len()).sum::<usize>());
    let s = summary;
    let name = escape(&s.scenario);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>edgesim report: {name}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
    );
    let _ = writeln!(h, "<h1>edgesim report: {name}</h1>");
    if !s.description.is_empty() {
        let _ = writeln!(h, "<p class=\"desc\">{}</p>", escape(&s.description));
    }
    let _ = writeln!(
        h,
        "<p class=\"meta\">seed {} · {} simulated in {} of {} · {} in {} · {} · {}</p>",
        s.seed,
        seconds(s.simulated_secs),
        plural(s.epochs as usize, "epoch"),
        seconds(s.epoch_secs),
        plural(s.pops.len(), "PoP"),
        plural(s.regions.len(), "region"),
        plural(s.countries.len(), "viewer country"),
        plural(s.origins.len(), "origin")
    );
    if !s.complete {
        let _ = writeln!(
            h,
            "<p class=\"warn\">Incomplete run: it stopped after {} of the scenario's {}; every number covers only that part.</p>",
            seconds(s.simulated_secs),
            seconds(s.duration_secs)
        );
    }
    for i in &s.incidents {
        let _ = writeln!(
            h,
            "<p class=\"warn\">At {} (epoch {}) agent {} (regions {}) failed: {}. {}</p>",
            seconds(i.at_secs),
            i.epoch,
            escape(&i.agent),
            escape(&i.regions.join(", ")),
            escape(&i.reason),
            if i.action == "reassigned" {
                format!(
                    "Its regions were reassigned to {} and restarted there with cold caches from that epoch.",
                    escape(&i.to.join(", "))
                )
            } else {
                "The run was aborted.".to_owned()
            }
        );
    }
    h.push_str("<nav>");
    h.push_str("<a href=\"#outcomes\">Viewer outcomes</a><a href=\"#errors\">Errors by cause</a>");
    h.push_str("<a href=\"#headline\">Headline</a><a href=\"#ttfb\">Where the time goes</a>");
    for p in plots {
        let _ = write!(h, "<a href=\"#{}\">{}</a>", p.name, escape(&p.title));
    }
    h.push_str(
        "<a href=\"#pops\">PoPs</a><a href=\"#countries\">Countries</a><a href=\"#regions\">Regions</a><a href=\"#origins\">Origins</a></nav>\n",
    );

    // What viewers got comes first: the outcome, its figure, the causes.
    outcomes_headline(&mut h, s);
    let (first, rest): (Vec<&RenderedPlot>, Vec<&RenderedPlot>) =
        plots.iter().partition(|p| p.name == OUTCOMES_FIGURE);
    for p in first {
        figure(&mut h, p);
    }
    cause_table(&mut h, s);

    headline(&mut h, s);
    latency_breakdown(&mut h, s);

    h.push_str("<h2 id=\"plots\">Plots</h2>\n");
    for p in rest {
        figure(&mut h, p);
    }

    pop_table(&mut h, s);
    country_table(&mut h, s);
    region_table(&mut h, s);
    shield_table(&mut h, s);
    origin_table(&mut h, s);
    trigger_table(&mut h, s);
    variant_table(&mut h, s);
    migration_table(&mut h, s);
    cost_table(&mut h, s);

    let _ = writeln!(
        h,
        "<footer>Machine-readable: <a href=\"summary.json\">summary.json</a> (schema_version {}), \
         <a href=\"timeseries.csv\">timeseries.csv</a>, <a href=\"histograms.json\">histograms.json</a> \
         (latency histograms). Written by edgesim {}; regenerate this page with <code>edgesim report DIR</code>.</footer>",
        s.schema_version,
        env!("CARGO_PKG_VERSION")
    );
    h.push_str("</main>\n</body>\n</html>\n");
    h
}

/// The figure of viewer outcomes, shown with the outcomes at the top.
const OUTCOMES_FIGURE: &str = "viewer_outcomes";

fn figure(h: &mut String, p: &RenderedPlot) {
    let svg = p.svg.find("<svg").map_or("", |at| &p.svg[at..]);
    let _ = writeln!(
        h,
        "<figure id=\"{name}\">\n{svg}\n<figcaption><b>{title}.</b> {caption} <a href=\"{name}.png\">PNG</a> · <a href=\"{name}.svg\">SVG</a></figcaption>\n</figure>",
        name = p.name,
        title = escape(&p.title),
        caption = escape(&p.caption),
    );
}

/// The most common exact statuses shown in the headline.
const HEADLINE_STATUSES: usize = 6;

/// Viewers answered, the error rate, the top causes and the status mix.
fn outcomes_headline(h: &mut String, s: &Summary) {
    let o = &s.viewer_outcomes;
    let share = |n: u64| pct(n as f64 / o.answers.max(1) as f64);
    let class = |c: &str| o.status_classes.get(c).copied().unwrap_or(0);
    let top = o.top_causes();
    let causes = if top.is_empty() {
        "none: every answer had a status below 400".to_owned()
    } else {
        top.iter()
            .take(3)
            .map(|(c, n)| {
                format!(
                    "{}: {} ({} of answers)",
                    crate::summary::cause_label(c),
                    thousands(*n),
                    share(*n)
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut statuses: Vec<(&String, &u64)> = o.statuses.iter().collect();
    statuses.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let common = statuses
        .iter()
        .take(HEADLINE_STATUSES)
        .map(|(st, n)| format!("{st}: {}", thousands(**n)))
        .collect::<Vec<_>>()
        .join(", ");
    let rows: [(&str, String, String); 4] = [
        (
            "Viewers answered",
            thousands(o.answers),
            format!(
                "{} answers with a status >= 400; {} with 5xx",
                thousands(o.errors),
                thousands(class("5xx"))
            ),
        ),
        (
            "Error rate",
            pct(o.error_rate),
            format!(
                "status >= 400 / answers; 5xx alone {}",
                pct(o.server_error_rate)
            ),
        ),
        ("Top causes of errors", String::new(), causes),
        (
            "Status mix",
            format!(
                "{} / {} / {} / {}",
                share(class("2xx")),
                share(class("3xx")),
                share(class("4xx")),
                share(class("5xx"))
            ),
            format!("2xx / 3xx / 4xx / 5xx; most common: {common}"),
        ),
    ];
    h.push_str(
        "<h2 id=\"outcomes\">Viewer outcomes</h2>\n<table class=\"headline\" id=\"outcomes-table\">\n<tbody>\n",
    );
    for (what, value, note) in rows {
        let _ = writeln!(
            h,
            "<tr><td>{what}</td><td class=\"n\">{value}</td><td class=\"note\">{}</td></tr>",
            escape(&note)
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

/// Error answers by cause, and by finer source.
fn cause_table(h: &mut String, s: &Summary) {
    let o = &s.viewer_outcomes;
    h.push_str("<h2 id=\"errors\">Errors by cause</h2>\n");
    if o.errors == 0 {
        h.push_str("<p>No viewer answer had a status of 400 or more.</p>\n");
        return;
    }
    h.push_str(
        "<table id=\"errors-table\">\n<thead><tr><th>cause</th><th>errors</th><th>of answers</th><th>of errors</th><th>sources</th></tr></thead>\n<tbody>\n",
    );
    for (cause, n) in o.top_causes() {
        let sources = edgesim_sim::AnswerSource::ALL
            .iter()
            .filter(|src| src.cause().name() == cause)
            .filter_map(|src| {
                o.errors_by_source
                    .get(src.name())
                    .map(|k| format!("{} {}", src.name(), thousands(*k)))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            escape(crate::summary::cause_label(cause)),
            thousands(n),
            pct(n as f64 / o.answers.max(1) as f64),
            pct(n as f64 / o.errors.max(1) as f64),
            escape(&sources)
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

fn latency_cells(h: &mut String, l: &LatencyMs, requests: u64) {
    if requests == 0 {
        h.push_str("<td class=\"n\">–</td><td class=\"n\">–</td>");
    } else {
        let _ = write!(
            h,
            "<td class=\"n\">{}</td><td class=\"n\">{}</td>",
            ms(l.p50),
            ms(l.p99)
        );
    }
}

fn headline(h: &mut String, s: &Summary) {
    let t = &s.totals;
    let share = |n: u64| pct(n as f64 / t.requests.max(1) as f64);
    let rate = t.requests as f64 / s.simulated_secs.max(1e-9);
    let l = &s.latency_ms;
    let regional = if t.regional_requests == 0 {
        (
            "–".to_owned(),
            "no regional edge cache saw traffic".to_owned(),
        )
    } else {
        (
            pct(t.regional_hit_ratio),
            format!(
                "regional hits / requests PoPs sent to regional caches ({})",
                thousands(t.regional_requests)
            ),
        )
    };
    let cost = s.cost.as_ref().map_or_else(
        || ("–".to_owned(), "not priced".to_owned()),
        |c| {
            (
                dollars(c.monthly_usd.total),
                format!(
                    "at {} list prices, the run's rates over {} h; {} for the {} simulated",
                    c.prices.version,
                    c.monthly_hours,
                    dollars(c.run_usd.total),
                    seconds(c.run_secs)
                ),
            )
        },
    );
    let rows: [(&str, String, String); 11] = [
        (
            "Viewer requests",
            thousands(t.requests),
            format!("{} req/s on average", thousands(rate.round() as u64)),
        ),
        (
            "Origin offload, requests",
            pct(t.offload_requests),
            "1 − origin fetches / viewer requests".into(),
        ),
        (
            "Origin offload, bytes",
            pct(t.offload_bytes),
            "1 − origin bytes / viewer bytes".into(),
        ),
        (
            "Edge hit ratio",
            pct(t.hit_ratio),
            "answered from the PoP's cache".into(),
        ),
        ("Regional hit ratio", regional.0, regional.1),
        (
            "Collapsed requests",
            thousands(t.edge_collapsed + t.regional_collapsed),
            format!(
                "{} of requests waited for a fetch already in flight: {} at PoPs, {} at regional caches",
                share(t.edge_collapsed + t.regional_collapsed),
                thousands(t.edge_collapsed),
                thousands(t.regional_collapsed)
            ),
        ),
        (
            "Latency p50 / p99",
            format!("{} / {}", ms(l.p50), ms(l.p99)),
            format!("p90 {}, p99.9 {}, max {}", ms(l.p90), ms(l.p999), ms(l.max)),
        ),
        (
            "Origin fetches",
            thousands(t.origin_fetches),
            format!(
                "{} of requests; {} revalidations (304)",
                share(t.origin_fetches),
                thousands(t.origin_revalidations)
            ),
        ),
        (
            "Bytes to viewers",
            bytes(t.viewer_bytes),
            format!("{} fetched from origins", bytes(t.origin_bytes)),
        ),
        if s.shields.is_empty() {
            (
                "Requests by tier",
                format!(
                    "{} / {} / {} / {}",
                    pct(s.tiers().function),
                    pct(s.tiers().edge),
                    pct(s.tiers().regional),
                    pct(s.tiers().origin)
                ),
                format!(
                    "function-answered / edge (hit or collapsed) / regional cache / origin{}",
                    unresolved_note(s)
                ),
            )
        } else {
            (
                "Requests by tier",
                format!(
                    "{} / {} / {} / {} / {}",
                    pct(s.tiers().function),
                    pct(s.tiers().edge),
                    pct(s.tiers().regional),
                    pct(s.tiers().shield),
                    pct(s.tiers().origin)
                ),
                format!(
                    "function-answered / edge (hit or collapsed) / regional cache / Origin Shield ({} hit ratio) / origin{}",
                    pct(t.shield_hit_ratio),
                    unresolved_note(s)
                ),
            )
        },
        ("Cost per month (USD)", cost.0, cost.1),
    ];
    h.push_str("<h2 id=\"headline\">Headline</h2>\n<table class=\"headline\">\n<tbody>\n");
    for (what, value, note) in rows {
        let _ = writeln!(
            h,
            "<tr><td>{what}</td><td class=\"n\">{value}</td><td class=\"note\">{}</td></tr>",
            escape(&note)
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

/// Where the time to first byte goes, part by part, and how often
/// connections were opened on each leg.
fn latency_breakdown(h: &mut String, s: &Summary) {
    let b = &s.latency_breakdown;
    let c = &s.connections;
    let _ = writeln!(
        h,
        "<h2 id=\"ttfb\">Where the time goes</h2>\n<p class=\"meta\">Mean time to first byte {:.1} ms over {} answers; the parts of every answer add up to its latency. \
         Viewer connections: {} reused, {} new ({} resuming a TLS session, {} full handshakes); origin connections: {} of {} fetches on a kept-alive connection.</p>",
        b.mean_ms,
        b.answers,
        pct(c.viewer_reuse_share),
        c.viewer_new + c.viewer_resumed,
        c.viewer_resumed,
        c.viewer_new,
        pct(c.origin_reuse_share),
        c.origin_new + c.origin_reused,
    );
    h.push_str(
        "<table id=\"ttfb-table\">\n<thead><tr><th>part</th><th class=\"n\">mean ms</th><th class=\"n\">share</th><th>what it is</th></tr></thead>\n<tbody>\n",
    );
    const WHAT: [&str; 8] = [
        "the viewer's transport handshake (TCP, or QUIC's combined one) on a new connection",
        "the viewer's TLS handshake on a new TCP connection",
        "the request's round trip to the PoP and the PoP's own work",
        "edge functions, with their trips to the Lambda@Edge region",
        "trips to the regional edge cache and Origin Shield, and their answers",
        "opening connections to origins (CloudFront keeps them alive)",
        "the origin fetch: round trip, queue wait and service",
        "waiting for a fetch another request started (collapsing)",
    ];
    for (i, name) in edgesim_sim::TtfbParts::NAMES.iter().enumerate() {
        let _ = writeln!(
            h,
            "<tr><td>{name}</td><td class=\"n\">{:.2}</td><td class=\"n\">{}</td><td class=\"note\">{}</td></tr>",
            b.parts_mean_ms.get(*name).copied().unwrap_or(0.0),
            pct(b.parts_share.get(*name).copied().unwrap_or(0.0)),
            WHAT[i]
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

/// The share answered 502 for an origin that does not resolve, when any.
fn unresolved_note(s: &Summary) -> String {
    if s.totals.unresolved == 0 {
        String::new()
    } else {
        format!(
            "; {} answered 502 for an origin that does not resolve",
            pct(s.tiers().unresolved)
        )
    }
}

fn pop_table(h: &mut String, s: &Summary) {
    h.push_str(
        "<h2 id=\"pops\">PoPs</h2>\n<table>\n<thead><tr><th>PoP</th><th>city</th><th>region</th>\
         <th class=\"n\">requests</th><th class=\"n\">share</th><th class=\"n\">edge hit ratio</th>\
         <th class=\"n\">collapsed</th><th class=\"n\">origin fetches</th><th class=\"n\">p50</th><th class=\"n\">p99</th></tr></thead>\n<tbody>\n",
    );
    let total = s.totals.requests.max(1) as f64;
    for (i, p) in s.pops.iter().enumerate() {
        let _ = write!(
            h,
            "<tr><td>{}{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            swatch(entity_colour(i)),
            escape(&p.id),
            escape(p.city.as_deref().unwrap_or("–")),
            escape(&p.region),
            thousands(p.requests),
            pct(p.requests as f64 / total),
            if p.requests == 0 {
                "–".into()
            } else {
                pct(p.hit_ratio)
            },
            thousands(p.edge_collapsed),
            thousands(p.origin_fetches),
        );
        latency_cells(h, &p.latency_ms, p.requests);
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
}

fn country_table(h: &mut String, s: &Summary) {
    h.push_str(
        "<h2 id=\"countries\">Viewer countries</h2>\n<p class=\"meta\">By requests. Latency merges the histograms of all the country's routes.</p>\n<table>\n<thead><tr><th>country</th>\
         <th class=\"n\">planned share</th><th class=\"n\">requests</th><th>served by</th>\
         <th class=\"n\">p50</th><th class=\"n\">p90</th><th class=\"n\">p99</th></tr></thead>\n<tbody>\n",
    );
    let mut order: Vec<usize> = (0..s.countries.len()).collect();
    order.sort_by(|&a, &b| {
        s.countries[b]
            .requests
            .cmp(&s.countries[a].requests)
            .then(a.cmp(&b))
    });
    for i in order {
        let c = &s.countries[i];
        let _ = write!(
            h,
            "<tr><td>{}{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td>",
            swatch(entity_colour(i)),
            escape(&c.code),
            pct(c.weight),
            thousands(c.requests),
            escape(&c.pops.join(", ")),
        );
        if c.requests == 0 {
            h.push_str("<td class=\"n\">–</td><td class=\"n\">–</td><td class=\"n\">–</td>");
        } else {
            let l = &c.latency_ms;
            let _ = write!(
                h,
                "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
                ms(l.p50),
                ms(l.p90),
                ms(l.p99)
            );
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
}

fn region_table(h: &mut String, s: &Summary) {
    h.push_str(
        "<h2 id=\"regions\">Regions</h2>\n<table>\n<thead><tr><th>region</th><th>PoPs</th>\
         <th class=\"n\">regional cache</th><th class=\"n\">requests</th><th class=\"n\">to regional cache</th>\
         <th class=\"n\">regional hit ratio</th><th class=\"n\">origin fetches</th><th class=\"n\">offload</th></tr></thead>\n<tbody>\n",
    );
    for r in &s.regions {
        let pops: Vec<&str> = s
            .pops
            .iter()
            .filter(|p| p.region == r.id)
            .map(|p| p.id.as_str())
            .collect();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&r.id),
            escape(&pops.join(", ")),
            if r.cache_bytes == 0 {
                "none".into()
            } else {
                bytes(r.cache_bytes)
            },
            thousands(r.requests),
            thousands(r.regional_requests),
            if r.regional_requests == 0 {
                "–".into()
            } else {
                pct(r.regional_hit_ratio)
            },
            thousands(r.origin_fetches),
            if r.requests == 0 {
                "–".into()
            } else {
                pct(r.offload_requests)
            },
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

/// The Origin Shield tier, mirroring the regions' table (only when the
/// scenario has shields).
fn shield_table(h: &mut String, s: &Summary) {
    if s.shields.is_empty() {
        return;
    }
    h.push_str(
        "<h2 id=\"shields\">Origin Shield</h2>\n<table>\n<thead><tr><th>origin</th><th>shield region</th>\
         <th class=\"n\">cache</th><th class=\"n\">requests</th><th class=\"n\">hits</th>\
         <th class=\"n\">collapsed</th><th class=\"n\">hit ratio</th><th class=\"n\">origin fetches</th>\
         <th class=\"n\">offload</th><th class=\"n\">bytes served</th></tr></thead>\n<tbody>\n",
    );
    for x in &s.shields {
        let ratio = |v: f64| {
            if x.requests == 0 {
                "–".to_owned()
            } else {
                pct(v)
            }
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td></tr>",
            escape(&x.origin),
            escape(&x.region),
            bytes(x.cache_bytes),
            thousands(x.requests),
            thousands(x.hits),
            thousands(x.collapsed),
            ratio(x.hit_ratio),
            thousands(x.misses),
            ratio(x.offload_requests),
            bytes(x.bytes_served),
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

fn origin_table(h: &mut String, s: &Summary) {
    h.push_str(
        "<h2 id=\"origins\">Origins</h2>\n<table>\n<thead><tr><th>origin</th><th>kind</th><th>location</th>\
         <th class=\"n\">fetches</th><th class=\"n\">share</th><th class=\"n\">bytes</th>\
         <th class=\"n\">peak fetches/s</th><th class=\"n\">peak bytes/s</th></tr></thead>\n<tbody>\n",
    );
    let all = s.origins.iter().map(|o| o.fetches).sum::<u64>().max(1) as f64;
    let secs: Vec<f64> = s
        .timeseries
        .iter()
        .map(|r| r.end_secs - r.start_secs)
        .collect();
    let peak = |per_epoch: &[u64]| {
        per_epoch
            .iter()
            .zip(&secs)
            .filter(|(_, s)| **s > 0.0)
            .map(|(&n, s)| n as f64 / s)
            .fold(0.0, f64::max)
    };
    for (i, o) in s.origins.iter().enumerate() {
        let _ = writeln!(
            h,
            "<tr><td>{}{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            swatch(entity_colour(i)),
            escape(&o.id),
            escape(&o.kind),
            escape(&o.location),
            thousands(o.fetches),
            pct(o.fetches as f64 / all),
            bytes(o.bytes),
            thousands(peak(&o.fetches_per_epoch).round() as u64),
            byte_rate(peak(&o.bytes_per_epoch)),
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

/// Lambda@Edge functions per behaviour and stage (absent without any).
fn trigger_table(h: &mut String, s: &Summary) {
    if s.triggers.is_empty() {
        return;
    }
    h.push_str(
        "<h2 id=\"triggers\">Lambda@Edge functions</h2>\n<table>\n<thead><tr><th>behaviour</th><th>stage</th>\
         <th class=\"n\">invocations</th><th class=\"n\">generated responses</th><th class=\"n\">invalid (502)</th>\
         <th class=\"n\">errors, timeouts, OOM, throttled (503)</th><th class=\"n\">cold starts</th>\
         <th class=\"n\">mean run time</th></tr></thead>\n<tbody>\n",
    );
    for t in &s.triggers {
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&t.behavior),
            escape(&t.stage),
            thousands(t.invocations),
            thousands(t.responded),
            thousands(t.invalid),
            thousands(t.errors + t.timeouts + t.out_of_memory + t.throttled),
            thousands(t.cold_starts),
            ms(t.mean_duration_ms),
        );
    }
    h.push_str("</tbody>\n</table>\n");
    function_logs(h, s);
    let regions: Vec<_> = s
        .regions
        .iter()
        .filter_map(|r| Some((r, r.lambda.as_ref()?)))
        .collect();
    let Some(quotas) = s.lambda_quotas.filter(|_| !regions.is_empty()) else {
        return;
    };
    let _ = writeln!(
        h,
        "<p class=\"meta\">Per region, all functions together against the account's quotas \
         ({} concurrent executions, {} requests/s).</p>\n<table>\n<thead><tr><th>region</th>\
         <th class=\"n\">peak concurrent executions</th><th class=\"n\">throttled at the concurrency limit</th>\
         <th class=\"n\">throttled at the rate limit</th></tr></thead>\n<tbody>",
        thousands(u64::from(quotas.concurrency_limit)),
        thousands(quotas.rate_limit_rps.round() as u64),
    );
    for (r, l) in regions {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&r.id),
            thousands(l.peak_concurrency),
            thousands(l.throttled_concurrency),
            thousands(l.throttled_rate),
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

/// What the functions wrote to the console, and where the regions kept it (absent when they
/// wrote nothing).
fn function_logs(h: &mut String, s: &Summary) {
    let lines: u64 = s.triggers.iter().map(|t| t.log_lines).sum();
    if lines == 0 {
        return;
    }
    let cut: u64 = s.triggers.iter().map(|t| t.log_truncated).sum();
    let _ = write!(
        h,
        "<p class=\"meta\">Console output: {} lines written by functions; {} invocations cut at the \
         per-invocation cap (1,000 lines, 256 KiB). Kept per region, as CloudWatch Logs would hold it \
         (at most 1 MiB a run):",
        thousands(lines),
        thousands(cut),
    );
    for r in s.regions.iter().filter(|r| r.function_log_lines > 0) {
        let _ = write!(
            h,
            " <a href=\"{dir}/{id}.log\">{id}</a> ({} lines{})",
            thousands(r.function_log_lines),
            if r.function_log_lines_dropped > 0 {
                format!(", {} more dropped", thousands(r.function_log_lines_dropped))
            } else {
                String::new()
            },
            dir = crate::write::FUNCTION_LOGS_DIR,
            id = escape(&r.id),
        );
    }
    h.push_str("</p>\n");
}

/// The migration's KPIs and gate evaluations (absent without one).
fn migration_table(h: &mut String, s: &Summary) {
    let Some(m) = &s.migration else {
        return;
    };
    let k = &m.kpis;
    let opt_s = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), seconds);
    let opt_pct = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), pct);
    let _ = writeln!(
        h,
        "<h2 id=\"migration\">Migration: {} → {}</h2>\n<p class=\"meta\">{} · outcome <b>{}</b></p>",
        escape(&m.from),
        escape(&m.to),
        escape(&k.strategy),
        escape(&k.outcome)
    );
    h.push_str("<table class=\"headline\">\n<tbody>\n");
    let abort = k.abort.as_ref().map_or_else(
        || "—".to_owned(),
        |a| {
            format!(
                "at {} by gate {} ({} = {:.4} > {})",
                seconds(a.at_secs),
                a.gate,
                a.metric.name(),
                a.value,
                a.max
            )
        },
    );
    let rows: [(&str, String); 13] = [
        ("planned weight reached 100%", opt_s(k.time_to_full_secs)),
        (
            "99% of viewer responses from the new origin",
            opt_s(k.time_to_realised_full_secs),
        ),
        (
            "peak new-origin fetches/s",
            thousands(k.peak_new_origin_rps.round() as u64),
        ),
        (
            "peak old-origin fetches/s",
            thousands(k.peak_old_origin_rps.round() as u64),
        ),
        ("origin bytes, whole run", bytes(k.total_origin_bytes)),
        (
            "hit ratio before the migration",
            opt_pct(k.baseline_hit_ratio),
        ),
        ("hit-ratio dip (depth)", opt_pct(k.hit_ratio_dip_depth)),
        (
            "hit-ratio dip (area, ratio·s)",
            k.hit_ratio_dip_area
                .map_or_else(|| "—".into(), |a| format!("{a:.1}")),
        ),
        ("5xx responses after start", thousands(k.error_responses)),
        (
            "viewers exposed to errors",
            thousands(k.viewers_exposed_to_errors),
        ),
        ("abort", abort),
        ("time to detect", opt_s(k.time_to_detect_secs)),
        (
            "time to roll back fully (incl. cache tails)",
            opt_s(k.time_to_rollback_secs),
        ),
    ];
    for (label, value) in rows {
        let _ = writeln!(h, "<tr><th>{label}</th><td>{}</td></tr>", escape(&value));
    }
    h.push_str("</tbody>\n</table>\n");
    let decisive: Vec<_> = m
        .gate_evaluations
        .iter()
        .filter(|g| g.outcome != "pass")
        .collect();
    let _ = writeln!(
        h,
        "<p class=\"meta\">{} gate evaluations, {} not passed{}</p>",
        m.gate_evaluations.len(),
        decisive.len(),
        if decisive.is_empty() { "." } else { ":" }
    );
    if !decisive.is_empty() {
        h.push_str(
            "<table>\n<thead><tr><th class=\"n\">at</th><th>gate metric</th><th>outcome</th>\
             <th class=\"n\">value</th><th class=\"n\">max</th><th class=\"n\">samples</th></tr></thead>\n<tbody>\n",
        );
        for g in decisive.iter().take(50) {
            let _ = writeln!(
                h,
                "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                seconds(g.at_secs),
                escape(&g.metric),
                escape(&g.outcome),
                g.value.map_or_else(|| "—".into(), |v| format!("{v:.4}")),
                g.max,
                thousands(g.samples)
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
}

/// US dollars: cents with thousands separators ("$1,234.56"); four
/// decimals below a cent.
fn dollars(v: f64) -> String {
    if v > 0.0 && v < 0.01 {
        format!("${v:.4}")
    } else {
        let cents = (v.max(0.0) * 100.0).round() as u64;
        format!("${}.{:02}", thousands(cents / 100), cents % 100)
    }
}

/// The cost estimate: items per run and per month, the price table named,
/// and data transfer per pricing region group (absent when not priced).
fn cost_table(h: &mut String, s: &Summary) {
    let Some(c) = &s.cost else {
        return;
    };
    let sources: Vec<String> = c
        .prices
        .source
        .iter()
        .map(|u| {
            let shown = u.trim_start_matches("https://").trim_end_matches('/');
            format!("<a href=\"{}\">{}</a>", escape(u), escape(shown))
        })
        .collect();
    let _ = writeln!(
        h,
        "<h2 id=\"cost\">Cost</h2>\n<p class=\"meta\">Prices: table <b>{}</b> (as of {}; sources: {}). \
         AWS list prices in USD: no free tier, commitments or private pricing. Per month: the run's \
         average rates over {} h, data-transfer volume tiers applied to that monthly volume per region \
         group; per run: its share of that month ({}).{}</p>",
        escape(&c.prices.version),
        escape(&c.prices.as_of),
        sources.join(", "),
        c.monthly_hours,
        seconds(c.run_secs),
        if c.overrides.is_empty() {
            String::new()
        } else {
            format!(
                " Set by the scenario: <code>{}</code>.",
                escape(&c.overrides.join("; "))
            )
        }
    );
    let u = &c.usage;
    let basis = [
        format!(
            "{} GB to viewers, CloudFront data transfer out",
            fixed(u.viewer_gb)
        ),
        format!("{} viewer requests, all HTTPS", thousands(u.https_requests)),
        format!(
            "{} billed Lambda@Edge invocations (throttled ones are free)",
            thousands(u.lambda_requests)
        ),
        format!(
            "{} GB-seconds: each invocation billed its behaviour's mean run time rounded up to 1 ms",
            fixed(u.lambda_gb_seconds)
        ),
        format!("{} S3 GET requests", thousands(u.s3_get_requests)),
        format!(
            "{} GB from custom origins or origins with their own price (S3 to CloudFront is free)",
            fixed(u.priced_origin_gb)
        ),
        "no Origin Shield in the simulation".to_owned(),
    ];
    let labels = [
        "Data transfer out",
        "HTTPS requests",
        "Lambda@Edge requests",
        "Lambda@Edge duration",
        "Origin requests",
        "Origin egress",
        "Origin Shield requests",
    ];
    h.push_str(
        "<table>\n<thead><tr><th>item</th><th class=\"n\">per run</th><th class=\"n\">per month</th>\
         <th>basis (run)</th></tr></thead>\n<tbody>\n",
    );
    for (((label, (_, run)), (_, month)), basis) in labels
        .iter()
        .zip(c.run_usd.items())
        .zip(c.monthly_usd.items())
        .zip(basis)
    {
        let _ = writeln!(
            h,
            "<tr><td>{label}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"note\">{}</td></tr>",
            dollars(run),
            dollars(month),
            escape(&basis)
        );
    }
    let _ = writeln!(
        h,
        "<tr><td><b>Total</b></td><td class=\"n\"><b>{}</b></td><td class=\"n\"><b>{}</b></td><td></td></tr>",
        dollars(c.run_usd.total),
        dollars(c.monthly_usd.total)
    );
    h.push_str("</tbody>\n</table>\n");
    h.push_str(
        "<table>\n<thead><tr><th>region group</th><th>PoPs</th><th class=\"n\">requests</th>\
         <th class=\"n\">GB (run)</th><th class=\"n\">GB per month</th>\
         <th class=\"n\">data transfer per month</th><th class=\"n\">HTTPS requests per month</th></tr></thead>\n<tbody>\n",
    );
    for r in &c.regions {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&r.label),
            escape(&r.pops.join(", ")),
            thousands(r.requests),
            fixed(r.viewer_gb),
            fixed(r.monthly_viewer_gb),
            dollars(r.data_transfer_monthly_usd),
            dollars(r.https_requests_monthly_usd),
        );
    }
    h.push_str("</tbody>\n</table>\n");
}

/// A quantity with thousands separators and up to two decimals.
fn fixed(v: f64) -> String {
    let hundredths = (v.max(0.0) * 100.0).round() as u64;
    if hundredths.is_multiple_of(100) {
        thousands(hundredths / 100)
    } else {
        format!("{}.{:02}", thousands(hundredths / 100), hundredths % 100)
    }
}

/// A/B variants (absent without an `ab_test` function).
fn variant_table(h: &mut String, s: &Summary) {
    if s.variants.is_empty() {
        return;
    }
    h.push_str(
        "<h2 id=\"variants\">A/B variants</h2>\n<table>\n<thead><tr><th>variant</th><th class=\"n\">requests</th>\
         <th class=\"n\">edge hit ratio</th><th class=\"n\">offload</th><th class=\"n\">p50</th><th class=\"n\">p99</th></tr></thead>\n<tbody>\n",
    );
    for v in &s.variants {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            escape(&v.name),
            thousands(v.requests),
            pct(v.hit_ratio),
            pct(v.offload_requests),
        );
        latency_cells(h, &v.latency_ms, v.requests);
        h.push_str("</tr>\n");
    }
    h.push_str("</tbody>\n</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(escape("plain ü"), "plain ü");
    }

    #[test]
    fn number_formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(pct(0.5), "50.0%");
        assert_eq!(pct(0.9987), "99.87%");
        assert_eq!(pct(1.0), "100.0%");
        assert_eq!(pct(0.0002), "0.02%");
        assert_eq!(pct(0.0), "0.0%");
        assert_eq!(plural(1, "origin"), "1 origin");
        assert_eq!(plural(2, "PoP"), "2 PoPs");
        assert_eq!(plural(1200, "country"), "1,200 countries");
        assert_eq!(ms(3.456), "3.46 ms");
        assert_eq!(ms(123.4), "123 ms");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(2 * 1024 * 1024 * 1024), "2.00 GiB");
    }

    #[test]
    fn cost_section_names_the_price_table() {
        assert_eq!(dollars(1234.567), "$1,234.57");
        assert_eq!(dollars(0.0), "$0.00");
        assert_eq!(dollars(0.00123), "$0.0012");
        assert_eq!(fixed(21_900.0), "21,900");
        assert_eq!(fixed(2.5), "2.50");
        let s = crate::testkit::summary(6);
        let page = index_html(&s, &[]);
        assert!(page.contains("<h2 id=\"cost\">Cost</h2>"));
        assert!(page.contains("<table id=\"ttfb-table\">"));
        assert!(page.contains("<td>origin_connect</td>"));
        assert!(page.contains("table <b>aws-2026-11</b> (as of 2026-11-01"));
        assert!(page.contains("https://aws.amazon.com/cloudfront/pricing/"));
        assert!(page.contains("<tr><td>Cost per month (USD)</td>"));
        let mut unpriced = s.clone();
        unpriced.cost = None;
        let page = index_html(&unpriced, &[]);
        assert!(!page.contains("id=\"cost\""));
    }
}
