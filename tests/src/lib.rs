//! Helpers for tests on the real runtime: genesis from a named preset, block execution through
//! `Executive` with Aura slots and the timestamp inherent, and signed transactions built the way a
//! wallet builds them. The end-to-end tests on a running node use the same transaction builder.

use codec::Encode;
use frame_support::traits::Get;
use liquidation_runtime::{
	Executive, Header, Runtime, RuntimeCall, SignedPayload, System, TxExtension,
	UncheckedExtrinsic, SLOT_DURATION, VERSION,
};
use serde_json::Value;
use sp_consensus_aura::{Slot, AURA_ENGINE_ID};
use sp_core::{Pair, H256};
use sp_keyring::Sr25519Keyring;
use sp_runtime::{
	generic::{Digest, DigestItem, Era},
	traits::Header as HeaderT,
	ApplyExtrinsicResult, DispatchResult,
};

pub use liquidation_runtime::{AccountId, Balance, BlockNumber, Nonce};

/// Merges `patch` into `base`: objects key by key, everything else replaced (RFC 7386 without
/// deletions), as genesis presets are applied over the default genesis config.
pub fn merge_json(base: &mut Value, patch: Value) {
	match (base, patch) {
		(Value::Object(base), Value::Object(patch)) => {
			for (key, value) in patch {
				merge_json(base.entry(key).or_insert(Value::Null), value);
			}
		},
		(base, patch) => *base = patch,
	}
}

/// The full genesis config JSON of the runtime preset named `preset`.
pub fn preset_genesis_json(preset: &str) -> Value {
	let patch = liquidation_runtime::genesis_config_presets::get_preset(&preset.into())
		.unwrap_or_else(|| panic!("the runtime has no genesis preset `{preset}`"));
	let patch: Value = serde_json::from_slice(&patch).expect("presets are valid JSON");
	let mut config = serde_json::to_value(liquidation_runtime::RuntimeGenesisConfig::default())
		.expect("the default genesis config serializes");
	merge_json(&mut config, patch);
	config
}

/// Externalities holding the genesis state of the runtime preset named `preset`, with block 1
/// not yet started.
pub fn genesis_externalities(preset: &str) -> sp_io::TestExternalities {
	genesis_externalities_of(preset_genesis_json(preset))
}

/// Externalities holding the genesis state of `config` (a whole genesis config as JSON, e.g. a
/// preset's with a patch merged), with block 1 not yet started.
pub fn genesis_externalities_of(config: Value) -> sp_io::TestExternalities {
	let json = serde_json::to_vec(&config).expect("JSON serializes");
	let mut ext = sp_io::TestExternalities::new_empty();
	ext.execute_with(|| {
		frame_support::genesis_builder_helper::build_state::<
			liquidation_runtime::RuntimeGenesisConfig,
		>(json)
		.expect("the preset builds a genesis state");
	});
	ext
}

/// A chain in test externalities, advanced block by block through `Executive` as a block author
/// would: each block carries an Aura pre-digest with the next slot and the timestamp inherent.
pub struct TestChain {
	pub ext: sp_io::TestExternalities,
	/// The slot of the last block started.
	slot: u64,
	/// Whether a block is open (initialized and not yet finalized).
	open: bool,
	/// The extrinsics the open (or last) block included, the timestamp inherent first: with
	/// its header, the block a node would import ([`Self::last_block`]).
	included: Vec<UncheckedExtrinsic>,
}

impl TestChain {
	/// A chain at the genesis state of the runtime preset named `preset`.
	pub fn from_preset(preset: &str) -> Self {
		Self::from_genesis_json(preset_genesis_json(preset))
	}

	/// A chain at the genesis state of `config` (see [`genesis_externalities_of`]).
	pub fn from_genesis_json(config: Value) -> Self {
		// Slots start at the current time, as on a live chain.
		let now_ms = std::time::SystemTime::now()
			.duration_since(std::time::UNIX_EPOCH)
			.expect("the clock is after 1970")
			.as_millis() as u64;
		Self {
			ext: genesis_externalities_of(config),
			slot: now_ms / SLOT_DURATION,
			open: false,
			included: Vec::new(),
		}
	}

	/// Runs `f` in the chain's state.
	pub fn execute_with<R>(&mut self, f: impl FnOnce() -> R) -> R {
		self.ext.execute_with(f)
	}

	/// The genesis block hash, which signed transactions commit to.
	pub fn genesis_hash(&mut self) -> H256 {
		self.execute_with(|| System::block_hash(0))
	}

	/// Lets `slots` slots pass without a block (the next block's timestamp jumps ahead by as
	/// many slot durations), as when a replay samples a path less often than every slot.
	pub fn skip_slots(&mut self, slots: u64) {
		self.slot += slots;
	}

	/// Starts the next block: initializes it with the next Aura slot and applies the timestamp
	/// inherent for that slot.
	pub fn start_block(&mut self) -> BlockNumber {
		assert!(!self.open, "finish the open block first");
		self.slot += 1;
		let slot = self.slot;
		self.open = true;
		self.ext.execute_with(|| {
			let number = System::block_number() + 1;
			let parent_hash = System::block_hash(number - 1);
			let digest = Digest {
				logs: vec![DigestItem::PreRuntime(AURA_ENGINE_ID, Slot::from(slot).encode())],
			};
			let header =
				Header::new(number, Default::default(), Default::default(), parent_hash, digest);
			Executive::initialize_block(&header);
			let set_time =
				UncheckedExtrinsic::new_bare(RuntimeCall::Timestamp(pallet_timestamp::Call::set {
					now: slot * SLOT_DURATION,
				}));
			Executive::apply_extrinsic(set_time.clone())
				.expect("the timestamp inherent is valid")
				.expect("the timestamp inherent dispatches");
			self.included = vec![set_time];
			number
		})
	}

	/// Applies a transaction to the open block, as the block builder does.
	pub fn apply(&mut self, xt: UncheckedExtrinsic) -> ApplyExtrinsicResult {
		assert!(self.open, "start a block first");
		// In a storage transaction, undone when the block refuses the extrinsic, as a node's
		// block builder does: `apply_extrinsic` notes the extrinsic (and the extensions' prepare,
		// a nonce, may have run) before the refusal, which must not stay in the block's state.
		let outcome = self.ext.execute_with(|| {
			sp_io::storage::start_transaction();
			let outcome = Executive::apply_extrinsic(xt.clone());
			if outcome.is_ok() {
				sp_io::storage::commit_transaction();
			} else {
				sp_io::storage::rollback_transaction();
			}
			outcome
		});
		// Included when valid, whether its dispatch succeeded or failed.
		if outcome.is_ok() {
			self.included.push(xt);
		}
		outcome
	}

	/// The last finished block with `header` (what [`Self::finish_block`] returned): its header
	/// and the extrinsics it included, as a node would import it.
	pub fn last_block(&self, header: Header) -> liquidation_runtime::Block {
		assert!(!self.open, "finish the block first");
		liquidation_runtime::Block { header, extrinsics: self.included.clone() }
	}

	/// Finalizes the open block; the header's hash becomes the parent of the next one.
	pub fn finish_block(&mut self) -> Header {
		assert!(self.open, "no block is open");
		self.open = false;
		self.ext.execute_with(|| {
			let header = Executive::finalize_block();
			frame_system::BlockHash::<Runtime>::insert(*header.number(), header.hash());
			header
		})
	}

	/// Starts a block, applies `transactions` in it, finishes it, and returns each one's outcome.
	pub fn produce_block(&mut self, transactions: Vec<UncheckedExtrinsic>) -> Vec<DispatchResult> {
		self.start_block();
		let outcomes = transactions
			.into_iter()
			.map(|xt| self.apply(xt).expect("transaction is valid"))
			.collect();
		self.finish_block();
		outcomes
	}

	/// Moves every change so far into the state's trie (as a node commits a block), so that
	/// the next blocks' storage roots cover only their own changes: long replays stay linear.
	pub fn commit(&mut self) {
		self.ext.commit_all().expect("the changes commit to the trie");
	}

	/// Applies `call`, signed by `signer`, in a block of its own and returns its outcome.
	pub fn dispatch(&mut self, signer: Sr25519Keyring, call: RuntimeCall) -> DispatchResult {
		let xt = self.signed(signer, call);
		self.produce_block(vec![xt]).remove(0)
	}

	/// Submits `call`, signed by `signer`, to a block of its own: its outcome, or why the block
	/// would not include it (a transaction extension refused it, so nothing was charged).
	pub fn submit(&mut self, signer: Sr25519Keyring, call: RuntimeCall) -> ApplyExtrinsicResult {
		let xt = self.signed(signer, call);
		self.start_block();
		let outcome = self.apply(xt);
		self.finish_block();
		outcome
	}

	/// Three dev oracle operators (Alice, Bob, Charlie) feed `asset` at `price` in one block:
	/// with the dev parameters, the price is live after it.
	pub fn feed_price(
		&mut self,
		asset: liquidation_primitives::AssetId,
		price: liquidation_primitives::Price,
	) {
		self.feed_prices(&[(asset, price)]);
	}

	/// As [`Self::feed_price`], for several assets in the same block.
	pub fn feed_prices(
		&mut self,
		prices: &[(liquidation_primitives::AssetId, liquidation_primitives::Price)],
	) {
		let feeds = [Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie]
			.into_iter()
			.map(|operator| {
				let values = frame_support::BoundedVec::truncate_from(prices.to_vec());
				self.signed(
					operator,
					RuntimeCall::Oracle(orml_oracle::Call::feed_values { values }),
				)
			})
			.collect();
		let outcomes = self.produce_block(feeds);
		assert!(outcomes.iter().all(Result::is_ok), "the operators' feeds: {outcomes:?}");
	}

	/// The liquidation engine's events of the last block.
	pub fn liquidation_events(&mut self) -> Vec<pallet_liquidation::Event<Runtime>> {
		self.execute_with(|| {
			System::events()
				.into_iter()
				.filter_map(|record| match record.event {
					liquidation_runtime::RuntimeEvent::Liquidation(event) => Some(event),
					_ => None,
				})
				.collect()
		})
	}

	/// Runs the liquidation engine's off-chain worker once on the current state (a fresh
	/// off-chain database) and returns the transactions it put in the pool.
	pub fn run_liquidation_worker(&mut self) -> Vec<UncheckedExtrinsic> {
		use codec::Decode;
		use frame_support::traits::Hooks;
		use sp_core::offchain::{
			testing::{TestOffchainExt, TestTransactionPoolExt},
			OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
		};
		let (offchain, _offchain_state) = TestOffchainExt::new();
		let (pool, pool_state) = TestTransactionPoolExt::new();
		self.ext.register_extension(OffchainDbExt::new(offchain.clone()));
		self.ext.register_extension(OffchainWorkerExt::new(offchain));
		self.ext.register_extension(TransactionPoolExt::new(pool));
		self.execute_with(|| {
			let now = System::block_number();
			<liquidation_runtime::Liquidation as Hooks<BlockNumber>>::offchain_worker(now);
		});
		let submitted = pool_state
			.read()
			.transactions
			.iter()
			.map(|bytes| UncheckedExtrinsic::decode(&mut &bytes[..]).expect("an extrinsic"))
			.collect();
		submitted
	}

	/// Includes `transactions` in a block of their own, each succeeding.
	pub fn include_all(&mut self, transactions: Vec<UncheckedExtrinsic>) {
		self.start_block();
		for xt in transactions {
			assert_eq!(self.apply(xt), Ok(Ok(())));
		}
		self.finish_block();
	}

	/// A transaction of `call` signed by `signer` with its current nonce.
	pub fn signed(&mut self, signer: Sr25519Keyring, call: RuntimeCall) -> UncheckedExtrinsic {
		let genesis_hash = self.genesis_hash();
		let nonce = self.execute_with(|| System::account_nonce(signer.to_account_id()));
		signed_extrinsic(signer, call, nonce, genesis_hash)
	}
}

/// The transaction extensions of an immortal transaction with `nonce` and no tip.
pub fn tx_extension(nonce: Nonce) -> TxExtension {
	(
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(Era::Immortal),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
		pallet_liquidation::CheckKeeperLiquidation::<Runtime>::new(),
		liquidation_runtime::feed_priority::PrioritizeOracleFeeds,
		frame_system::WeightReclaim::<Runtime>::new(),
	)
}

/// `call` signed by `signer` as an immortal transaction with `nonce` for the chain whose genesis
/// hash is `genesis_hash`: what a wallet submits. It needs no chain state, so a test can build it
/// for a running node from values read over RPC.
pub fn signed_extrinsic(
	signer: Sr25519Keyring,
	call: RuntimeCall,
	nonce: Nonce,
	genesis_hash: H256,
) -> UncheckedExtrinsic {
	let tx_ext = tx_extension(nonce);
	// What the extensions add to the signed payload without carrying it in the transaction.
	let implicit = (
		(),
		VERSION.spec_version,
		VERSION.transaction_version,
		genesis_hash,
		genesis_hash,
		(),
		(),
		(),
		(),
		(),
		(),
	);
	let payload = SignedPayload::from_raw(call.clone(), tx_ext.clone(), implicit);
	let signature = payload.using_encoded(|bytes| signer.pair().sign(bytes));
	UncheckedExtrinsic::new_signed(
		call,
		sp_runtime::MultiAddress::Id(signer.to_account_id()),
		signature.into(),
		tx_ext,
	)
}

/// Existential deposit of the native token, for tests that reason about balances.
pub fn existential_deposit() -> Balance {
	<Runtime as pallet_balances::Config>::ExistentialDeposit::get()
}
