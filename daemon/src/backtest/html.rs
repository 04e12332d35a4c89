//! `report.html`: the report as one self-contained page that opens offline. A table of
//! each strategy's figures, then its charts as inline SVG drawn by plotters: equity and
//! drawdown, each instrument's price with the strategy's entries (buys, green) and exits
//! (sells, red), and its position over time. The charts carry no text (plotters would
//! need fonts for it): the page prints each chart's range beside it.

use super::report::Report;
use super::stats::Point;
use pennant_sdk::{Price, Qty, Side};
use plotters::prelude::*;
use std::fmt::Write;

/// Width and height of a chart, in pixels.
const SIZE: (u32, u32) = (900, 240);

/// The page.
pub fn page(report: &Report) -> String {
    let mut html = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Backtest report</title><style>\
         body{font:14px system-ui,sans-serif;margin:2em;color:#222}\
         table{border-collapse:collapse;margin:1em 0}td,th{padding:2px 10px;text-align:right}\
         th{text-align:left}figure{margin:1em 0}figcaption{color:#555}\
         svg{border:1px solid #ddd}</style></head><body>\n",
    );
    let _ = writeln!(
        html,
        "<h1>Backtest report</h1><p>{} to {}: {} events, capital {}</p>",
        escape(&report.period.from_utc),
        escape(&report.period.to_utc),
        report.period.events,
        escape(&report.capital)
    );
    for m in &report.market {
        let _ = writeln!(
            html,
            "<p>market {}: {} to {} ({:+.2}%)</p>",
            escape(&m.instrument),
            escape(&m.first),
            escape(&m.last),
            m.change * 100.0
        );
    }
    for (strategy, (id, curve)) in report.strategies.iter().zip(&report.curves) {
        let _ = writeln!(html, "<section class=\"strategy\"><h2>{}</h2>", escape(id));
        html += "<table>";
        let figures = serde_json::to_value(strategy).unwrap_or_default();
        if let Some(fields) = figures.as_object() {
            for (name, value) in fields {
                if value.is_object() || value.is_array() {
                    continue;
                }
                let shown = value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned);
                let _ = write!(
                    html,
                    "<tr><th>{}</th><td>{}</td></tr>",
                    escape(name),
                    escape(&shown)
                );
            }
        }
        html += "</table>\n";
        if !strategy.signals.is_empty() {
            html += "<table class=\"signals\"><tr><th>signals</th><th>buys</th><th>sells</th>\
                     <th>horizon</th><th>measured</th><th>hit rate</th><th>avg return (bps)</th></tr>";
            for signals in &strategy.signals {
                for h in &signals.horizons {
                    let shown = |v: Option<f64>, scale: f64| {
                        v.map_or_else(|| "-".to_owned(), |v| format!("{:.2}", v * scale))
                    };
                    let _ = write!(
                        html,
                        "<tr><th>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}%</td><td>{}</td></tr>",
                        escape(&format!("{} ({})", signals.instrument, signals.signals)),
                        signals.buys,
                        signals.sells,
                        escape(&h.horizon),
                        h.measured,
                        shown(h.hit_rate, 100.0),
                        shown(h.avg_return_bps, 1.0)
                    );
                }
            }
            html += "</table>\n";
        }
        let drawdown: Vec<Point> = {
            let mut peak = f64::MIN;
            curve
                .iter()
                .map(|&(ts, e)| {
                    peak = peak.max(e);
                    (ts, e - peak)
                })
                .collect()
        };
        chart(&mut html, "equity", "equity", &[(curve, BLUE)], &[]);
        chart(&mut html, "drawdown", "drawdown", &[(&drawdown, RED)], &[]);
        for instrument in &strategy.instruments {
            let symbol = &instrument.instrument;
            let prices = report.prices.get(symbol).cloned().unwrap_or_default();
            let fills: Vec<(i64, f64, Side)> = report
                .fills
                .iter()
                .filter(|(_, f)| &f.strategy == id && &f.instrument == symbol)
                .map(|(ts, f)| (*ts, Price::from_raw(f.price).to_f64(), f.side))
                .collect();
            chart(
                &mut html,
                "price",
                &format!("{symbol}: price, entries and exits"),
                &[(&prices, BLACK)],
                &fills,
            );
            let mut position = 0.0;
            let mut steps: Vec<Point> = vec![(report.period.from, 0.0)];
            for (ts, f) in report
                .fills
                .iter()
                .filter(|(_, f)| &f.strategy == id && &f.instrument == symbol)
            {
                steps.push((*ts, position));
                let qty = Qty::from_raw(f.qty).to_f64();
                position += if f.side == Side::Buy { qty } else { -qty };
                steps.push((*ts, position));
            }
            steps.push((report.period.to, position));
            chart(
                &mut html,
                "position",
                &format!("{symbol}: position"),
                &[(&steps, GREEN)],
                &[],
            );
        }
        html += "</section>\n";
    }
    html += "</body></html>\n";
    html
}

/// One chart as a figure: lines, and markers at `(ts, price, side)`.
fn chart(
    html: &mut String,
    class: &str,
    caption: &str,
    lines: &[(&[Point], RGBColor)],
    marks: &[(i64, f64, Side)],
) {
    let points = lines.iter().flat_map(|(l, _)| l.iter().copied());
    let (mut x0, mut x1, mut y0, mut y1) = (i64::MAX, i64::MIN, f64::MAX, f64::MIN);
    for (x, y) in points.chain(marks.iter().map(|&(x, y, _)| (x, y))) {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        return;
    }
    if x1 == x0 {
        x1 = x0 + 1;
    }
    if y1 <= y0 {
        (y0, y1) = (y0 - 1.0, y1 + 1.0);
    }
    let pad = (y1 - y0) * 0.05;
    let (y0, y1) = (y0 - pad, y1 + pad);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        let _ = root.fill(&WHITE);
        let Ok(mut chart) = ChartBuilder::on(&root)
            .margin(8)
            .build_cartesian_2d(x0 as f64..x1 as f64, y0..y1)
        else {
            return;
        };
        for &(line, color) in lines {
            let _ = chart.draw_series(LineSeries::new(
                line.iter().map(|&(x, y)| (x as f64, y)),
                color.stroke_width(2),
            ));
        }
        let _ = chart.draw_series(marks.iter().map(|&(x, y, side)| {
            let color = if side == Side::Buy { GREEN } else { RED };
            TriangleMarker::new((x as f64, y), 5, color.filled())
        }));
        let _ = root.present();
    }
    let _ = writeln!(
        html,
        "<figure class=\"{class}\">{svg}<figcaption>{} (from {:.4} to {:.4})</figcaption></figure>",
        escape(caption),
        y0 + pad,
        y1 - pad
    );
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
