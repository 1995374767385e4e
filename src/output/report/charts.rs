//! The report's charts: SVG strings drawn with plotters' SVG backend.
//!
//! Colours are the Okabe–Ito palette (distinguishable with every common colour-vision
//! deficiency); every axis is labelled; numbers on axes are formatted for people.

use plotters::prelude::*;

use super::format::{compact, percent};

/// Okabe–Ito: blue, orange, bluish green, vermillion, reddish purple, sky blue, yellow.
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(213, 94, 0),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(240, 228, 66),
];
const GREY: RGBColor = RGBColor(150, 150, 150);

/// Renders into an SVG string; drawing errors become an inline note instead of a panic.
fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<(), String>,
) -> String {
    let mut out = String::new();
    let result = {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        let drawn = root.fill(&WHITE).map_err(|e| e.to_string()).and_then(|_| draw(&root));
        drawn.and_then(|_| root.present().map_err(|e| e.to_string()))
    };
    match result {
        Ok(()) => out,
        Err(e) => format!("<p class=\"note\">chart unavailable: {e}</p>"),
    }
}

/// Lines over labelled categories (e.g. audience-size buckets): one series per (name, values).
pub fn lines(labels: &[String], series: &[(&str, Vec<Option<f64>>)], y_label: &str) -> String {
    svg((720, 340), |root| {
        let n = labels.len().max(1);
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(46)
            .y_label_area_size(56)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..1.0)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| labels.get(x.round() as usize).cloned().unwrap_or_default())
            .y_label_formatter(&|y| percent(*y))
            .x_desc("followers (log-scale buckets)")
            .y_desc(y_label)
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, (name, values)) in series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let points: Vec<(f64, f64)> =
                values.iter().enumerate().filter_map(|(x, v)| v.map(|v| (x as f64, v))).collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(|e| e.to_string())?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2)));
            chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(|e| e.to_string())?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(GREY)
            .position(SeriesLabelPosition::LowerLeft)
            .draw()
            .map_err(|e| e.to_string())
    })
}

/// Vertical bars over labelled categories, values as counts; `distinct` colours each bar
/// (categories), otherwise all share one colour (a histogram).
pub fn bars(labels: &[String], values: &[u64], x_label: &str, y_label: &str, distinct: bool) -> String {
    svg((720, 320), |root| {
        let n = labels.len().max(1);
        let top = values.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(46)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| labels.get(x.round() as usize).cloned().unwrap_or_default())
            .y_label_formatter(&|y| compact(*y))
            .x_desc(x_label)
            .y_desc(y_label)
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(values.iter().enumerate().map(|(i, &v)| {
                let x = i as f64;
                let color = if distinct { PALETTE[i % PALETTE.len()] } else { PALETTE[0] };
                Rectangle::new([(x - 0.38, 0.0), (x + 0.38, v as f64)], color.filled())
            }))
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// The Lorenz curve of a distribution, against the line of equality.
pub fn lorenz(curve: &[(f64, f64)], what: &str) -> String {
    svg((420, 400), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(46)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..1.0, 0f64..1.0)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_label_formatter(&|x| percent(*x))
            .y_label_formatter(&|y| percent(*y))
            .x_desc("share of accounts (fewest first)")
            .y_desc(format!("share of {what}"))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(vec![(0.0, 0.0), (1.0, 1.0)], GREY.stroke_width(1)))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(
                AreaSeries::new(curve.iter().copied(), 0.0, PALETTE[0].mix(0.25))
                    .border_style(PALETTE[0].stroke_width(2)),
            )
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}

/// Where one value stands among many: a histogram of `all`, with `value` marked.
pub fn standing(all: &[f64], value: f64, format: fn(f64) -> String) -> String {
    svg((360, 120), |root| {
        let (lo, hi) = all.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| (l.min(v), h.max(v)));
        let (lo, hi) = if lo < hi { (lo, hi) } else { (lo - 1.0, lo + 1.0) };
        let bins = 30usize;
        let width = (hi - lo) / bins as f64;
        let mut counts = vec![0u32; bins];
        for &v in all {
            counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
        }
        let top = f64::from(*counts.iter().max().unwrap_or(&1)).max(1.0);
        let mut chart = ChartBuilder::on(root)
            .margin(6)
            .x_label_area_size(24)
            .build_cartesian_2d(lo..hi, 0f64..top * 1.15)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .disable_y_axis()
            .x_labels(4)
            .x_label_formatter(&|x| format(*x))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(counts.iter().enumerate().map(|(i, &c)| {
                let x = lo + i as f64 * width;
                Rectangle::new([(x, 0.0), (x + width * 0.9, f64::from(c))], GREY.mix(0.6).filled())
            }))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(value, 0.0), (value, top * 1.1)],
                PALETTE[3].stroke_width(3),
            )))
            .map_err(|e| e.to_string())?;
        Ok(())
    })
}
