//! The replay's picture: one SVG with four panels over the path's time, and the accounts'
//! health before and after below them.
//!
//! 1. **Prices**: each asset's oracle price, as a percentage of its price at the start.
//! 2. **Aggregate health**: all borrowers' maintenance-weighted collateral over their
//!    maintenance-weighted debt (below 1, the population as a whole is underwater), and the
//!    most accounts liquidatable with nothing under way after a block of each interval
//!    (right-hand scale).
//! 3. **Liquidations** per sample interval (the timeline's step, in blocks), and of them the
//!    perpetual close-outs.
//! 4. **Insurance and losses**: the insurance fund's USD (left-hand scale), bad debt written off
//!    so far and loss socialized so far (right-hand scale); with perpetual traders, their
//!    shortfalls so far and of them what auto-deleveraging took and what the vault's LPs bore.
//! 5. **Health before and after**: the accounts by health factor at the start and at the end
//!    ([`crate::HealthDistribution`]), side by side in each bucket.

use crate::{HealthDistribution, Point};
use plotters::prelude::*;
use std::path::Path;

const COLOURS: [RGBColor; 6] = [
	RGBColor(0xE6, 0x7E, 0x22),
	RGBColor(0x29, 0x80, 0xB9),
	RGBColor(0x8E, 0x44, 0xAD),
	RGBColor(0x27, 0xAE, 0x60),
	RGBColor(0xC0, 0x39, 0x2B),
	RGBColor(0x7F, 0x8C, 0x8D),
];

type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// Draws the four panels of `timeline` and the health distribution into an SVG file at `path`,
/// titled `title`.
pub fn draw(
	path: &Path,
	title: &str,
	timeline: &[Point],
	blocks_per_point: u32,
	health: &HealthDistribution,
) -> DrawResult {
	let root = SVGBackend::new(path, (1400, 1380)).into_drawing_area();
	root.fill(&WHITE)?;
	let root = root.titled(title, ("sans-serif", 26))?;
	let (top, bottom) = root.split_vertically(960);
	let panels = top.split_evenly((2, 2));
	draw_health(&bottom, health)?;
	let hours = |point: &Point| point.seconds as f64 / 3_600.0;
	let end = timeline.last().map_or(1.0, hours).max(1e-3);

	// 1. Prices relative to the start.
	draw_prices(&panels[0], timeline, end)?;

	// 2. Aggregate health and liquidatable accounts.
	{
		let health: Vec<(f64, f64)> = timeline
			.iter()
			.filter(|p| p.aggregate_health.is_finite())
			.map(|p| (hours(p), p.aggregate_health))
			.collect();
		let (low, high) = bounds(health.iter().map(|p| p.1).chain([1.0]));
		let most = timeline.iter().map(|p| p.liquidatable).max().unwrap_or(0).max(1) as f64;
		let mut chart = ChartBuilder::on(&panels[1])
			.caption("Aggregate health", ("sans-serif", 20))
			.margin(12)
			.x_label_area_size(36)
			.y_label_area_size(56)
			.right_y_label_area_size(56)
			.build_cartesian_2d(0.0..end, low..high)?
			.set_secondary_coord(0.0..end, 0.0..most * 1.1);
		chart
			.configure_mesh()
			.x_desc("hours")
			.y_desc("weighted collateral / weighted debt")
			.draw()?;
		chart.configure_secondary_axes().y_desc("liquidatable accounts").draw()?;
		chart
			.draw_series(LineSeries::new(health, COLOURS[1].stroke_width(2)))?
			.label("aggregate health")
			.legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], COLOURS[1]));
		chart
			.draw_series(LineSeries::new(vec![(0.0, 1.0), (end, 1.0)], BLACK.stroke_width(1)))?
			.label("1.0: underwater")
			.legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK));
		chart
			.draw_secondary_series(LineSeries::new(
				timeline.iter().map(|p| (hours(p), f64::from(p.liquidatable))),
				COLOURS[4].stroke_width(1),
			))?
			.label("liquidatable accounts (right)")
			.legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], COLOURS[4]));
		chart
			.configure_series_labels()
			.position(SeriesLabelPosition::UpperRight)
			.background_style(WHITE.mix(0.8))
			.border_style(BLACK)
			.draw()?;
	}

	// 3. Liquidations per interval.
	{
		let most = timeline.iter().map(|p| p.liquidations).max().unwrap_or(0).max(1) as f64;
		let mut chart = ChartBuilder::on(&panels[2])
			.caption(format!("Liquidations per {blocks_per_point} blocks"), ("sans-serif", 20))
			.margin(12)
			.x_label_area_size(36)
			.y_label_area_size(56)
			.build_cartesian_2d(0.0..end, 0.0..most * 1.1)?;
		chart.configure_mesh().x_desc("hours").y_desc("liquidations").draw()?;
		let width = end / timeline.len().max(1) as f64;
		chart
			.draw_series(timeline.iter().filter(|p| p.liquidations > 0).map(|p| {
				let x = hours(p);
				let top = f64::from(p.liquidations);
				Rectangle::new([(x - width, 0.0), (x, top)], COLOURS[0].filled())
			}))?
			.label("liquidations")
			.legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], COLOURS[0].filled()));
		if timeline.iter().any(|p| p.position_close_outs > 0) {
			chart
				.draw_series(timeline.iter().filter(|p| p.position_close_outs > 0).map(|p| {
					let x = hours(p);
					let top = f64::from(p.position_close_outs);
					Rectangle::new([(x - width, 0.0), (x, top)], COLOURS[1].filled())
				}))?
				.label("of which perpetual close-outs")
				.legend(|(x, y)| {
					Rectangle::new([(x, y - 5), (x + 18, y + 5)], COLOURS[1].filled())
				});
		}
		chart
			.configure_series_labels()
			.position(SeriesLabelPosition::UpperRight)
			.background_style(WHITE.mix(0.8))
			.border_style(BLACK)
			.draw()?;
	}

	// 4. Insurance fund (left) and losses (right).
	{
		let fund: Vec<(f64, f64)> = timeline.iter().map(|p| (hours(p), p.insurance_usd)).collect();
		let (low, high) = bounds(fund.iter().map(|p| p.1));
		let losses = timeline
			.iter()
			.map(|p| p.bad_debt_usd.max(p.socialized_usd).max(p.position_shortfall_usd))
			.fold(1.0f64, f64::max);
		let mut chart = ChartBuilder::on(&panels[3])
			.caption("Insurance fund and losses (USD)", ("sans-serif", 20))
			.margin(12)
			.x_label_area_size(36)
			.y_label_area_size(70)
			.right_y_label_area_size(70)
			.build_cartesian_2d(0.0..end, low.max(0.0)..high)?
			.set_secondary_coord(0.0..end, 0.0..losses * 1.1);
		chart
			.configure_mesh()
			.x_desc("hours")
			.y_desc("insurance fund")
			.y_label_formatter(&|v| compact(*v))
			.draw()?;
		chart
			.configure_secondary_axes()
			.y_desc("bad debt, socialized")
			.y_label_formatter(&|v| compact(*v))
			.draw()?;
		chart
			.draw_series(LineSeries::new(fund, COLOURS[3].stroke_width(2)))?
			.label("insurance fund")
			.legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], COLOURS[3]));
		chart
			.draw_secondary_series(LineSeries::new(
				timeline.iter().map(|p| (hours(p), p.bad_debt_usd)),
				COLOURS[4].stroke_width(2),
			))?
			.label("bad debt written off (right)")
			.legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], COLOURS[4]));
		chart
			.draw_secondary_series(LineSeries::new(
				timeline.iter().map(|p| (hours(p), p.socialized_usd)),
				COLOURS[2].stroke_width(2),
			))?
			.label("loss socialized (right)")
			.legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], COLOURS[2]));
		if timeline.iter().any(|p| p.position_shortfall_usd > 0.0) {
			let perpetual: [(&str, fn(&Point) -> f64, RGBColor); 3] = [
				("perpetual shortfalls (right)", |p| p.position_shortfall_usd, COLOURS[0]),
				("of which deleveraged (right)", |p| p.deleveraged_usd, COLOURS[1]),
				("of which borne by LPs (right)", |p| p.to_lps_usd, COLOURS[5]),
			];
			for (label, value, colour) in perpetual {
				chart
					.draw_secondary_series(LineSeries::new(
						timeline.iter().map(|p| (hours(p), value(p))),
						colour.stroke_width(2),
					))?
					.label(label)
					.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour));
			}
		}
		chart
			.configure_series_labels()
			.position(SeriesLabelPosition::LowerRight)
			.background_style(WHITE.mix(0.8))
			.border_style(BLACK)
			.draw()?;
	}
	root.present()?;
	Ok(())
}

/// A replay without and one with predictive de-risking on the same population, in four panels
/// over the path's time: the oracle prices; liquidations per interval (both runs) and the
/// de-riskings; debt liquidated and notional closed out so far (both); bad debt so far (both).
pub fn draw_comparison(
	path: &Path,
	title: &str,
	without: &[Point],
	with: &[Point],
	blocks_per_point: u32,
) -> DrawResult {
	let root = SVGBackend::new(path, (1400, 960)).into_drawing_area();
	root.fill(&WHITE)?;
	let root = root.titled(title, ("sans-serif", 24))?;
	let panels = root.split_evenly((2, 2));
	let hours = |point: &Point| point.seconds as f64 / 3_600.0;
	let end = with.last().or(without.last()).map_or(1.0, hours).max(1e-3);
	let runs = [(without, "without de-risking", COLOURS[5]), (with, "with de-risking", COLOURS[1])];

	// 1. Prices relative to the start.
	draw_prices(&panels[0], with, end)?;

	// 2-4: a line per run (and the de-riskings in panel 2).
	let panels_of: [(&str, &str, fn(&Point) -> f64, bool); 3] = [
		("Liquidations per {} blocks", "liquidations", |p| f64::from(p.liquidations), true),
		(
			"Debt liquidated and notional closed out so far (USD)",
			"USD",
			|p| p.liquidated_usd,
			false,
		),
		(
			"Bad debt so far: spot written off and perpetual shortfalls (USD)",
			"USD",
			|p| p.bad_debt_usd + p.position_shortfall_usd,
			false,
		),
	];
	for (index, (caption, unit, value, per_interval)) in panels_of.into_iter().enumerate() {
		let caption = caption.replace("{}", &blocks_per_point.to_string());
		let most = without
			.iter()
			.chain(with)
			.map(|p| value(p).max(if per_interval { f64::from(p.deriskings) } else { 0.0 }))
			.fold(1.0f64, f64::max);
		let mut chart = ChartBuilder::on(&panels[index + 1])
			.caption(caption, ("sans-serif", 20))
			.margin(12)
			.x_label_area_size(36)
			.y_label_area_size(70)
			.build_cartesian_2d(0.0..end, 0.0..most * 1.1)?;
		chart
			.configure_mesh()
			.x_desc("hours")
			.y_desc(unit)
			.y_label_formatter(&|v| compact(*v))
			.draw()?;
		for (points, label, colour) in runs {
			chart
				.draw_series(LineSeries::new(
					points.iter().map(|p| (hours(p), value(p))),
					colour.stroke_width(2),
				))?
				.label(label)
				.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour));
		}
		if per_interval {
			chart
				.draw_series(LineSeries::new(
					with.iter().map(|p| (hours(p), f64::from(p.deriskings))),
					COLOURS[3].stroke_width(1),
				))?
				.label("de-riskings (with)")
				.legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], COLOURS[3]));
		}
		chart
			.configure_series_labels()
			.position(SeriesLabelPosition::UpperLeft)
			.background_style(WHITE.mix(0.8))
			.border_style(BLACK)
			.draw()?;
	}
	root.present()?;
	Ok(())
}

/// Each asset's oracle price over `timeline`, as a percentage of its first.
fn draw_prices(
	area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
	timeline: &[Point],
	end: f64,
) -> DrawResult {
	let hours = |point: &Point| point.seconds as f64 / 3_600.0;
	let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
	if let Some(first) = timeline.first() {
		for (symbol, start) in &first.prices {
			if *start <= 0.0 {
				continue;
			}
			let line = timeline
				.iter()
				.filter_map(|p| Some((hours(p), p.prices.get(symbol)? / start * 100.0)))
				.collect();
			series.push((symbol.clone(), line));
		}
	}
	let (low, high) = bounds(series.iter().flat_map(|(_, line)| line.iter().map(|p| p.1)));
	let mut chart = ChartBuilder::on(area)
		.caption("Oracle prices (start = 100)", ("sans-serif", 20))
		.margin(12)
		.x_label_area_size(36)
		.y_label_area_size(56)
		.build_cartesian_2d(0.0..end, low..high)?;
	chart.configure_mesh().x_desc("hours").y_desc("% of start").draw()?;
	for (index, (symbol, line)) in series.into_iter().enumerate() {
		let colour = COLOURS[index % COLOURS.len()];
		chart
			.draw_series(LineSeries::new(line, colour.stroke_width(2)))?
			.label(symbol)
			.legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour));
	}
	chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
	Ok(())
}

/// 5. The accounts by health factor at the start and at the end, two bars a bucket.
fn draw_health(
	area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
	health: &HealthDistribution,
) -> DrawResult {
	let buckets = health.buckets.len().max(1);
	let most = health.start.iter().chain(&health.end).copied().max().unwrap_or(0).max(1);
	let mut chart = ChartBuilder::on(area)
		.caption("Accounts by health factor: start and end", ("sans-serif", 20))
		.margin(12)
		.x_label_area_size(36)
		.y_label_area_size(56)
		// Bucket i centred on x = i, where the axis puts its ticks.
		.build_cartesian_2d(-0.5..buckets as f64 - 0.5, 0.0..f64::from(most) * 1.1)?;
	let labels = health.buckets.clone();
	chart
		.configure_mesh()
		.disable_x_mesh()
		.x_labels(buckets)
		.x_label_formatter(&|x| {
			let index = x.round();
			if (x - index).abs() < 1e-6 && index >= 0.0 {
				labels.get(index as usize).cloned().unwrap_or_default()
			} else {
				String::new()
			}
		})
		.x_desc("maintenance health factor (collateral over debt, both weighted)")
		.y_desc("accounts")
		.draw()?;
	for (series, (counts, colour, name)) in
		[(&health.start, COLOURS[1], "start"), (&health.end, COLOURS[4], "end")]
			.into_iter()
			.enumerate()
	{
		let offset = if series == 0 { -0.4 } else { 0.02 };
		chart
			.draw_series(counts.iter().enumerate().map(|(index, count)| {
				let x = index as f64 + offset;
				Rectangle::new([(x, 0.0), (x + 0.38, f64::from(*count))], colour.filled())
			}))?
			.label(format!("{name} ({} accounts)", counts.iter().sum::<u32>()))
			.legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], colour.filled()));
	}
	chart
		.configure_series_labels()
		.position(SeriesLabelPosition::UpperLeft)
		.background_style(WHITE.mix(0.8))
		.border_style(BLACK)
		.draw()?;
	Ok(())
}

/// `1.2M`, `350k`, `12.5`: short labels for USD axes.
fn compact(value: f64) -> String {
	match value.abs() {
		v if v >= 1e6 => format!("{:.2}M", value / 1e6),
		v if v >= 1e3 => format!("{:.1}k", value / 1e3),
		_ => format!("{value:.1}"),
	}
}

/// A range around `values` with a little room.
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
	let (low, high) = values
		.filter(|v| v.is_finite())
		.fold((f64::MAX, f64::MIN), |(low, high), v| (low.min(v), high.max(v)));
	if low > high {
		return (0.0, 1.0);
	}
	let room = ((high - low) * 0.08).max(1e-6);
	(low - room, high + room)
}
