//! A `liquidation-node` child process that is always stopped, whatever happens to the test.

use std::{
	fs::File,
	future::Future,
	path::PathBuf,
	process::{Child, Command, Stdio},
	sync::Mutex,
	time::{Duration, Instant},
};

use jsonrpsee::{
	core::client::ClientT,
	http_client::{HttpClient, HttpClientBuilder},
	rpc_params,
};

/// How often to poll the node while waiting for something.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// A port nobody listens on right now (the OS picks it).
pub fn free_port() -> u16 {
	let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("binds a free port");
	listener.local_addr().expect("has an address").port()
}

/// A fresh directory under cargo's scratch space for integration tests.
pub fn scratch_dir(name: &str) -> PathBuf {
	let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
		"{name}-{}-{}",
		std::process::id(),
		free_port()
	));
	std::fs::create_dir_all(&dir).expect("creates a scratch directory");
	dir
}

/// A running dev node. Dropping it kills the process, so a failing test never leaves one behind.
pub struct Node {
	child: Mutex<Child>,
	rpc: HttpClient,
	log: PathBuf,
	dir: PathBuf,
}

impl Node {
	/// The node binary with no arguments.
	pub fn command() -> Command {
		Command::new(env!("CARGO_BIN_EXE_liquidation-node"))
	}

	/// Starts `liquidation-node --dev --tmp` on free ports and waits until its RPC answers.
	pub async fn start_dev(timeout: Duration) -> Node {
		Self::start(&["--dev", "--tmp"], timeout).await
	}

	/// Starts the node with `args` plus free RPC and p2p ports, no telemetry, no Prometheus and
	/// no mDNS, and waits until its RPC answers.
	pub async fn start(args: &[&str], timeout: Duration) -> Node {
		let dir = scratch_dir("node");
		let log = dir.join("node.log");
		let rpc_port = free_port();
		let child = Self::command()
			.args(args)
			.args(["--no-prometheus", "--no-telemetry", "--no-mdns"])
			.args(["--rpc-port", &rpc_port.to_string(), "--port", &free_port().to_string()])
			.stdout(Stdio::null())
			.stderr(File::create(&log).expect("creates the log file"))
			.spawn()
			.expect("the node binary starts");
		let rpc = HttpClientBuilder::default()
			.request_timeout(Duration::from_secs(30))
			.build(format!("http://127.0.0.1:{rpc_port}"))
			.expect("a valid URL");
		let node = Node { child: Mutex::new(child), rpc, log, dir };
		node.wait_for("the RPC server", timeout, || async {
			node.rpc.request::<serde_json::Value, _>("system_health", rpc_params![]).await.ok()
		})
		.await;
		node
	}

	/// The node's JSON-RPC client.
	pub fn rpc(&self) -> &HttpClient {
		&self.rpc
	}

	/// Polls `probe` until it gives a value, failing with the node's log on timeout or exit.
	pub async fn wait_for<T, F, Fut>(&self, what: &str, timeout: Duration, mut probe: F) -> T
	where
		F: FnMut() -> Fut,
		Fut: Future<Output = Option<T>>,
	{
		let start = Instant::now();
		loop {
			if let Some(value) = probe().await {
				return value;
			}
			self.check_alive();
			if start.elapsed() > timeout {
				self.fail(&format!("timed out after {timeout:?} waiting for {what}"));
			}
			tokio::time::sleep(POLL_INTERVAL).await;
		}
	}

	fn check_alive(&self) {
		let exited = self.child.lock().map(|mut child| child.try_wait()).ok();
		if let Some(Ok(Some(status))) = exited {
			self.fail(&format!("the node exited early with {status}"));
		}
	}

	fn fail(&self, why: &str) -> ! {
		let log = std::fs::read_to_string(&self.log).unwrap_or_default();
		let tail: Vec<&str> = log.lines().rev().take(60).collect();
		let tail: Vec<&str> = tail.into_iter().rev().collect();
		panic!("{why}\n--- last lines of the node's log ---\n{}", tail.join("\n"));
	}

	/// Stops the node (dropping it does the same).
	pub fn stop(self) {}
}

impl Drop for Node {
	fn drop(&mut self) {
		// Even after a panic while the lock was held, the process must go.
		let child = self.child.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
		let _ = child.kill();
		let _ = child.wait();
		let _ = std::fs::remove_dir_all(&self.dir);
	}
}
