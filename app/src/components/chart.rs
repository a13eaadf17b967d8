//! Charts drawn as SVG on the server, so they show without JavaScript:
//! bars by day (with a line for a second series), and a ranking as
//! horizontal bars. Each carries its numbers as a table too.

use crate::wire::FigureDto;
use leptos::prelude::*;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
/// Room on the left for the scale, and below for the first and last day.
const LEFT: f64 = 40.0;
const BOTTOM: f64 = 20.0;

/// A figure as a chart with its table.
pub fn chart(f: &FigureDto) -> impl IntoView + use<> {
    let drawing = if f.ranking.is_empty() { daily(f).into_any() } else { ranking(f).into_any() };
    let csv = f.csv.clone();
    view! {
        <figure class="chart" id=format!("figure-{}", f.name)>
            <figcaption>
                <strong>{f.title.clone()}</strong>
                " · " {f.from.clone()} " to " {f.to.clone()}
                " · " <a href=csv rel="external" download="">"CSV"</a>
            </figcaption>
            {drawing}
            <details>
                <summary>"The numbers"</summary>
                {table(f)}
            </details>
        </figure>
    }
}

fn daily(f: &FigureDto) -> impl IntoView + use<> {
    let n = f.days.len().max(1) as f64;
    let top = f.series.iter().flat_map(|s| s.values.iter().copied()).max().unwrap_or(0).max(1) as f64;
    let plot_w = WIDTH - LEFT;
    let plot_h = HEIGHT - BOTTOM;
    let y = move |v: i64| plot_h - (v as f64 / top) * (plot_h - 10.0);
    let step = plot_w / n;
    let bars = f.series.first().map(|s| {
        s.values
            .iter()
            .zip(&f.days)
            .enumerate()
            .map(|(i, (v, day))| {
                let x = LEFT + i as f64 * step + step * 0.15;
                let top_y = y(*v);
                let label = format!("{day}: {v} {}", s.name);
                view! {
                    <rect class="bar" x=format!("{x:.1}") y=format!("{top_y:.1}")
                        width=format!("{:.1}", (step * 0.7).max(1.0)) height=format!("{:.1}", plot_h - top_y)>
                        <title>{label}</title>
                    </rect>
                }
            })
            .collect_view()
    });
    let line = f.series.get(1).map(|s| {
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", LEFT + (i as f64 + 0.5) * step, y(*v)))
            .collect();
        view! { <polyline class="line" points=points.join(" ") fill="none" /> }
    });
    let legend: Vec<String> = f
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{} {}", if i == 0 { "bars:" } else { "line:" }, s.name))
        .collect();
    let summary = format!("{}: {}, most in a day {}", f.title, legend.join(", "), top as i64);
    let first = f.days.first().cloned().unwrap_or_default();
    let last = f.days.last().cloned().unwrap_or_default();
    view! {
        <svg class="daily" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=summary>
            <line class="axis" x1=LEFT y1="0" x2=LEFT y2=plot_h />
            <line class="axis" x1=LEFT y1=plot_h x2=WIDTH y2=plot_h />
            <text class="scale" x=LEFT - 4.0 y="14" text-anchor="end">{top as i64}</text>
            <text class="scale" x=LEFT - 4.0 y=plot_h text-anchor="end">"0"</text>
            {bars}
            {line}
            <text class="scale" x=LEFT y=HEIGHT - 4.0>{first}</text>
            <text class="scale" x=WIDTH y=HEIGHT - 4.0 text-anchor="end">{last}</text>
        </svg>
        <p class="legend">{legend.join(" · ")}</p>
    }
}

fn ranking(f: &FigureDto) -> impl IntoView + use<> {
    let top = f.ranking.iter().map(|r| r.value).max().unwrap_or(0).max(1) as f64;
    let row_h = 22.0;
    let label_w = 200.0;
    let height = row_h * f.ranking.len().max(1) as f64;
    let rows = f
        .ranking
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let y = i as f64 * row_h;
            let w = (r.value as f64 / top) * (WIDTH - label_w - 60.0);
            view! {
                <text class="label" x=label_w - 6.0 y=y + 15.0 text-anchor="end">{r.label.clone()}</text>
                <rect class="bar" x=label_w y=y + 3.0 width=format!("{:.1}", w.max(1.0)) height=row_h - 6.0 />
                <text class="scale" x=label_w + w + 6.0 y=y + 15.0>{r.value}</text>
            }
        })
        .collect_view();
    let summary = format!("{}: {} channels", f.title, f.ranking.len());
    view! {
        <svg class="ranking" viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-label=summary>
            {rows}
        </svg>
    }
}

fn table(f: &FigureDto) -> impl IntoView + use<> {
    if !f.ranking.is_empty() {
        let rows = f
            .ranking
            .iter()
            .map(|r| view! { <tr><td>{r.label.clone()}</td><td>{r.value}</td></tr> })
            .collect_view();
        return view! {
            <table><thead><tr><th>"Channel"</th><th>"Messages"</th></tr></thead><tbody>{rows}</tbody></table>
        }
        .into_any();
    }
    let heads = f.series.iter().map(|s| view! { <th>{s.name.clone()}</th> }).collect_view();
    let rows = f
        .days
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let cells = f
                .series
                .iter()
                .map(|s| view! { <td>{s.values.get(i).copied().unwrap_or(0)}</td> })
                .collect_view();
            view! { <tr><td>{day.clone()}</td>{cells}</tr> }
        })
        .collect_view();
    view! {
        <table><thead><tr><th>"Day"</th>{heads}</tr></thead><tbody>{rows}</tbody></table>
    }
    .into_any()
}
