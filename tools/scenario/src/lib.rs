//! # Crash scenarios
//!
//! A scenario is a price path for several assets as reported by several oracle operators, written
//! as CSV with the header `seconds,feeder,asset,price`:
//!
//! - `seconds`: time since the start of the scenario (a whole number, rows in time order);
//! - `feeder`: the operator reporting the value (`op1`, `op2`, ...), or `*` for every operator;
//! - `asset`: a ticker (`BTC`, `ETH`, ...);
//! - `price`: US dollars per whole unit, a non-negative decimal with at most 18 decimal places.
//!
//! Rows are *knots*: between two knots of the same feeder and asset the price moves linearly, and
//! after the last knot it stays. A feeder with no knots of its own for an asset follows the `*`
//! knots of that asset. [`Scenario::price_at`] samples the path; prices are exact fixed-point
//! numbers with 18 decimals ([`PRICE_DECIMALS`]), the same unit as the runtime's `Price` inner
//! value, so no floating point rounding enters a replay.
//!
//! Every error names the line it was found on.

use std::{collections::BTreeMap, fmt, path::Path};

/// Decimal places of a [`ScenarioPrice`].
pub const PRICE_DECIMALS: u32 = 18;
/// One US dollar as a [`ScenarioPrice`].
pub const ONE_USD: u128 = 10u128.pow(PRICE_DECIMALS);

/// A price in US dollars per whole unit, with [`PRICE_DECIMALS`] decimals (`1.5` is
/// `1_500_000_000_000_000_000`): the inner value of a `FixedU128`.
pub type ScenarioPrice = u128;

/// The feeder a row belongs to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feeder {
	/// Every operator (`*`).
	All,
	/// One named operator.
	Named(String),
}

/// One knot of the path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Knot {
	/// Seconds since the start of the scenario.
	pub seconds: u64,
	/// The price at that time.
	pub price: ScenarioPrice,
}

/// What is wrong with a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScenarioError {
	/// The file could not be read.
	Io(String),
	/// The file has no rows (or not even a header).
	Empty,
	/// The first line is not `seconds,feeder,asset,price`.
	BadHeader { found: String },
	/// A row could not be understood.
	BadRow { line: usize, reason: String },
	/// A row's time is earlier than the row before it.
	Unordered { line: usize, seconds: u64, previous: u64 },
	/// A price is negative.
	NegativePrice { line: usize },
	/// The asset is not one the caller knows.
	UnknownAsset { line: usize, symbol: String },
	/// A renaming names an asset the scenario does not price.
	NoSuchAsset { symbol: String },
	/// A renaming gives an asset a name the scenario already prices.
	AssetTaken { symbol: String, line: usize },
}

impl fmt::Display for ScenarioError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Self::Io(e) => write!(f, "cannot read the scenario: {e}"),
			Self::Empty => write!(f, "the scenario has no rows"),
			Self::BadHeader { found } => write!(
				f,
				"line 1: expected the header `seconds,feeder,asset,price`, found `{found}`"
			),
			Self::BadRow { line, reason } => write!(f, "line {line}: {reason}"),
			Self::Unordered { line, seconds, previous } => write!(
				f,
				"line {line}: rows must be in time order, but {seconds} s comes after {previous} s"
			),
			Self::NegativePrice { line } => write!(f, "line {line}: a price cannot be negative"),
			Self::UnknownAsset { line, symbol } => {
				write!(f, "line {line}: unknown asset symbol `{symbol}`")
			},
			Self::NoSuchAsset { symbol } => {
				write!(f, "the scenario prices no asset `{symbol}` to rename")
			},
			Self::AssetTaken { symbol, line } => write!(
				f,
				"cannot rename onto `{symbol}`: the scenario prices it already (line {line})"
			),
		}
	}
}

impl std::error::Error for ScenarioError {}

/// A parsed scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
	/// Knots by asset and feeder, in time order.
	paths: BTreeMap<String, BTreeMap<Feeder, Vec<Knot>>>,
	/// The named feeders, sorted.
	feeders: Vec<String>,
	/// The time of the last knot.
	end_seconds: u64,
	/// For each asset, the line it first appears on (to name it in errors).
	first_line: BTreeMap<String, usize>,
}

impl Scenario {
	/// Reads and parses the scenario at `path`.
	pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ScenarioError> {
		let text = std::fs::read_to_string(path.as_ref())
			.map_err(|e| ScenarioError::Io(format!("{}: {e}", path.as_ref().display())))?;
		Self::parse(&text)
	}

	/// Parses a scenario from its CSV text. Each line is one record, read by the `csv` crate
	/// (quoted fields, spaces around fields); blank lines and `#` comment lines are skipped
	/// and still counted, so that errors name the line in the file. Prices go through the
	/// exact decimal parser ([`parse_price`]).
	pub fn parse(text: &str) -> Result<Self, ScenarioError> {
		// Line by line: the reader's own positions skip comment lines.
		let mut lines = text
			.lines()
			.enumerate()
			.map(|(index, line)| (index + 1, line.trim()))
			.filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
			.map(|(line, text)| record(text, line).map(|fields| (line, fields)));
		let header = match lines.next() {
			None => return Err(ScenarioError::Empty),
			Some(header) => header?.1,
		};
		if header != ["seconds", "feeder", "asset", "price"] {
			return Err(ScenarioError::BadHeader { found: header.join(",") });
		}

		let mut paths: BTreeMap<String, BTreeMap<Feeder, Vec<Knot>>> = BTreeMap::new();
		let mut feeders = Vec::new();
		let mut first_line = BTreeMap::new();
		let mut previous = 0u64;
		let mut rows = 0usize;
		for row in lines {
			let (line, fields) = row?;
			let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
			let [seconds, feeder, asset, price] = fields[..] else {
				return Err(ScenarioError::BadRow {
					line,
					reason: format!("expected 4 fields, found {}", fields.len()),
				});
			};
			let seconds: u64 = seconds.parse().map_err(|_| ScenarioError::BadRow {
				line,
				reason: format!("`{seconds}` is not a whole number of seconds"),
			})?;
			if seconds < previous {
				return Err(ScenarioError::Unordered { line, seconds, previous });
			}
			previous = seconds;
			if asset.is_empty() {
				return Err(ScenarioError::BadRow { line, reason: "the asset is empty".into() });
			}
			let feeder = match feeder {
				"*" => Feeder::All,
				"" => {
					return Err(ScenarioError::BadRow {
						line,
						reason: "the feeder is empty".into(),
					})
				},
				name => {
					if !feeders.iter().any(|known| known == name) {
						feeders.push(name.to_string());
					}
					Feeder::Named(name.to_string())
				},
			};
			let price = parse_price(price, line)?;
			first_line.entry(asset.to_string()).or_insert(line);
			paths
				.entry(asset.to_string())
				.or_default()
				.entry(feeder)
				.or_default()
				.push(Knot { seconds, price });
			rows += 1;
		}
		if rows == 0 {
			return Err(ScenarioError::Empty);
		}
		feeders.sort();
		Ok(Self { paths, feeders, end_seconds: previous, first_line })
	}

	/// Fails with the line of the first asset that `known` does not accept.
	pub fn check_assets(&self, known: impl Fn(&str) -> bool) -> Result<(), ScenarioError> {
		let mut unknown: Vec<(usize, &String)> = self
			.first_line
			.iter()
			.filter(|(symbol, _)| !known(symbol))
			.map(|(symbol, line)| (*line, symbol))
			.collect();
		unknown.sort();
		match unknown.first() {
			Some((line, symbol)) => {
				Err(ScenarioError::UnknownAsset { line: *line, symbol: (*symbol).clone() })
			},
			None => Ok(()),
		}
	}

	/// Prices `from`'s path as `to` (a scenario's LUNA replayed as a dev chain's DOT): its knots,
	/// feeders and the line it first appears on move over. Refused when `from` is not priced or
	/// `to` already is (two paths cannot be one asset).
	pub fn rename_asset(&mut self, from: &str, to: &str) -> Result<(), ScenarioError> {
		if from == to {
			return if self.paths.contains_key(from) {
				Ok(())
			} else {
				Err(ScenarioError::NoSuchAsset { symbol: from.to_string() })
			};
		}
		if let Some(line) = self.first_line.get(to) {
			return Err(ScenarioError::AssetTaken { symbol: to.to_string(), line: *line });
		}
		let path = self
			.paths
			.remove(from)
			.ok_or_else(|| ScenarioError::NoSuchAsset { symbol: from.to_string() })?;
		self.paths.insert(to.to_string(), path);
		if let Some(line) = self.first_line.remove(from) {
			self.first_line.insert(to.to_string(), line);
		}
		Ok(())
	}

	/// The assets of the scenario, sorted.
	pub fn assets(&self) -> impl Iterator<Item = &str> {
		self.paths.keys().map(String::as_str)
	}

	/// The named feeders of the scenario, sorted (empty when every row is for `*`).
	pub fn named_feeders(&self) -> &[String] {
		&self.feeders
	}

	/// The time of the last knot, in seconds.
	pub fn end_seconds(&self) -> u64 {
		self.end_seconds
	}

	/// The price `feeder` reports for `asset` at `seconds`: its own path if it has one for the
	/// asset, else the `*` path; `None` before the path's first knot or when there is no path.
	pub fn price_at(&self, feeder: &str, asset: &str, seconds: u64) -> Option<ScenarioPrice> {
		let by_feeder = self.paths.get(asset)?;
		let knots = by_feeder
			.get(&Feeder::Named(feeder.to_string()))
			.or_else(|| by_feeder.get(&Feeder::All))?;
		interpolate(knots, seconds)
	}
}

/// The price on the piecewise-linear path through `knots` at `seconds`, rounded down.
fn interpolate(knots: &[Knot], seconds: u64) -> Option<ScenarioPrice> {
	let after = knots.partition_point(|knot| knot.seconds <= seconds);
	let before = knots.get(after.checked_sub(1)?)?;
	let Some(next) = knots.get(after) else { return Some(before.price) };
	// `next.seconds > seconds >= before.seconds`, so the span is positive.
	let span = u128::from(next.seconds - before.seconds);
	let elapsed = u128::from(seconds - before.seconds);
	let price = if next.price >= before.price {
		before.price + (next.price - before.price) * elapsed / span
	} else {
		before.price - ((before.price - next.price) * elapsed).div_ceil(span)
	};
	Some(price)
}

/// The fields of one CSV line (on line `line`), trimmed.
fn record(text: &str, line: usize) -> Result<Vec<String>, ScenarioError> {
	let mut reader = csv::ReaderBuilder::new()
		.has_headers(false)
		.flexible(true)
		.trim(csv::Trim::All)
		.from_reader(text.as_bytes());
	match reader.records().next() {
		Some(Ok(record)) => Ok(record.iter().map(str::to_string).collect()),
		Some(Err(error)) => Err(ScenarioError::BadRow { line, reason: error.to_string() }),
		None => Ok(Vec::new()),
	}
}

/// Parses a non-negative decimal (`4000`, `1.0`, `0.25`) into 18-decimal fixed point.
fn parse_price(text: &str, line: usize) -> Result<ScenarioPrice, ScenarioError> {
	if text.starts_with('-') {
		return Err(ScenarioError::NegativePrice { line });
	}
	let bad = || ScenarioError::BadRow { line, reason: format!("`{text}` is not a price") };
	let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
	if whole.is_empty() && fraction.is_empty() {
		return Err(bad());
	}
	if !whole.chars().all(|c| c.is_ascii_digit()) || !fraction.chars().all(|c| c.is_ascii_digit()) {
		return Err(bad());
	}
	if fraction.len() > PRICE_DECIMALS as usize {
		return Err(ScenarioError::BadRow {
			line,
			reason: format!("`{text}` has more than {PRICE_DECIMALS} decimal places"),
		});
	}
	let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| bad())? };
	let padded = format!("{fraction:0<width$}", width = PRICE_DECIMALS as usize);
	let fraction: u128 = padded.parse().map_err(|_| bad())?;
	whole.checked_mul(ONE_USD).and_then(|w| w.checked_add(fraction)).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
	use super::*;

	const HEADER: &str = "seconds,feeder,asset,price\n";

	fn usd(whole: u128) -> ScenarioPrice {
		whole * ONE_USD
	}

	/// A LUNA path replayed as DOT: the same prices under the new name, the old name gone; a
	/// name already priced, or one not priced, is refused.
	#[test]
	fn an_asset_is_renamed_with_its_path() {
		let text = format!("{HEADER}0,*,LUNA,80\n0,*,BTC,100\n60,op1,LUNA,0.038\n");
		let mut scenario = Scenario::parse(&text).unwrap();
		assert_eq!(
			scenario.rename_asset("LUNA", "BTC"),
			Err(ScenarioError::AssetTaken { symbol: "BTC".into(), line: 3 })
		);
		assert_eq!(
			scenario.rename_asset("FTT", "DOT"),
			Err(ScenarioError::NoSuchAsset { symbol: "FTT".into() })
		);
		scenario.rename_asset("LUNA", "DOT").unwrap();
		assert_eq!(scenario.assets().collect::<Vec<_>>(), vec!["BTC", "DOT"]);
		assert_eq!(scenario.price_at("op1", "DOT", 60), Some(38 * ONE_USD / 1_000));
		assert_eq!(scenario.price_at("op2", "DOT", 60), Some(usd(80)));
		assert_eq!(scenario.price_at("op1", "LUNA", 0), None);
		// Unknown to the caller: the error names the line the renamed asset came from.
		assert_eq!(
			scenario.check_assets(|symbol| symbol == "BTC"),
			Err(ScenarioError::UnknownAsset { line: 2, symbol: "DOT".into() })
		);
	}

	#[test]
	fn interpolates_between_knots_and_holds_after_the_last() {
		let scenario =
			Scenario::parse(&format!("{HEADER}0,*,BTC,100\n100,*,BTC,50\n200,*,BTC,150\n"))
				.unwrap();
		assert_eq!(scenario.price_at("op1", "BTC", 0), Some(usd(100)));
		assert_eq!(scenario.price_at("op1", "BTC", 50), Some(usd(75)));
		assert_eq!(scenario.price_at("op1", "BTC", 100), Some(usd(50)));
		assert_eq!(scenario.price_at("op1", "BTC", 150), Some(usd(100)));
		assert_eq!(scenario.price_at("op1", "BTC", 10_000), Some(usd(150)));
		assert_eq!(scenario.price_at("op1", "ETH", 0), None);
		assert_eq!(scenario.end_seconds(), 200);
	}

	#[test]
	fn a_named_feeder_follows_its_own_path_and_others_the_shared_one() {
		let scenario =
			Scenario::parse(&format!("{HEADER}0,*,ETH,4000\n0,op3,ETH,4000\n10,op3,ETH,1600\n"))
				.unwrap();
		assert_eq!(scenario.price_at("op3", "ETH", 10), Some(usd(1600)));
		assert_eq!(scenario.price_at("op1", "ETH", 10), Some(usd(4000)));
		assert_eq!(scenario.named_feeders(), ["op3".to_string()]);
	}

	#[test]
	fn parses_decimals_exactly() {
		assert_eq!(parse_price("1.0", 1), Ok(ONE_USD));
		assert_eq!(parse_price("0.25", 1), Ok(ONE_USD / 4));
		assert_eq!(parse_price("5690", 1), Ok(usd(5690)));
		assert_eq!(parse_price(".5", 1), Ok(ONE_USD / 2));
		assert!(parse_price("1.2.3", 1).is_err());
		assert!(parse_price("", 1).is_err());
		assert!(parse_price("1e5", 1).is_err());
	}

	#[test]
	fn errors_name_the_line() {
		assert_eq!(Scenario::parse(""), Err(ScenarioError::Empty));
		assert_eq!(Scenario::parse(HEADER), Err(ScenarioError::Empty));
		assert!(matches!(
			Scenario::parse("time,who,what,price\n"),
			Err(ScenarioError::BadHeader { .. })
		));
		assert_eq!(
			Scenario::parse(&format!("{HEADER}10,*,BTC,1\n5,*,BTC,1\n")),
			Err(ScenarioError::Unordered { line: 3, seconds: 5, previous: 10 })
		);
		assert_eq!(
			Scenario::parse(&format!("{HEADER}0,*,BTC,1\n1,*,BTC,-3\n")),
			Err(ScenarioError::NegativePrice { line: 3 })
		);
		assert!(matches!(
			Scenario::parse(&format!("{HEADER}0,*,BTC\n")),
			Err(ScenarioError::BadRow { line: 2, .. })
		));
		// Comments, blank lines, spaces and quoted fields are read as CSV; lines keep counting.
		let scenario = Scenario::parse(&format!(
			"# a crash\n\n{HEADER}# the start\n0, *, \"BTC\" ,100\n\n  \n60,op1,BTC,90.5\n"
		))
		.unwrap();
		assert_eq!(scenario.price_at("op1", "BTC", 60), Some(905 * ONE_USD / 10));
		assert_eq!(
			Scenario::parse(&format!("# c\n{HEADER}0,*,BTC,1\n\n5,*,BTC,x\n")),
			Err(ScenarioError::BadRow { line: 5, reason: "`x` is not a price".into() })
		);
		let scenario = Scenario::parse(&format!("{HEADER}0,*,BTC,1\n0,*,XYZ,2\n")).unwrap();
		assert_eq!(
			scenario.check_assets(|symbol| symbol == "BTC"),
			Err(ScenarioError::UnknownAsset { line: 3, symbol: "XYZ".into() })
		);
		let message = Scenario::parse(&format!("{HEADER}0,*,BTC,-1\n")).unwrap_err().to_string();
		assert_eq!(message, "line 2: a price cannot be negative");
	}

	#[test]
	fn the_shared_scenarios_parse() {
		// Read at run time: a test binary reused from another checkout keeps its build-time path.
		let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it for tests");
		let dir = std::path::Path::new(&manifest_dir).join("../../scenarios");
		let mut count = 0;
		for entry in std::fs::read_dir(&dir).unwrap() {
			let path = entry.unwrap().path();
			if path.extension().is_some_and(|ext| ext == "csv") {
				let scenario = Scenario::from_file(&path).unwrap();
				assert!(scenario.end_seconds() > 0, "{}", path.display());
				count += 1;
			}
		}
		assert!(count >= 3, "the scenarios folder holds the shared scenarios");
	}
}
