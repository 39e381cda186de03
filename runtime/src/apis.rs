//! The runtime APIs: the standard set of a Substrate chain (core, metadata, block builder,
//! transaction pool, off-chain workers, Aura, GRANDPA, session keys, nonces, fees, genesis
//! builder) and the oracle's values.

use alloc::vec::Vec;
use frame_support::{
	genesis_builder_helper::{build_state, get_preset},
	weights::Weight,
};
use orml_oracle::TimestampedValue;
use pallet_grandpa::AuthorityId as GrandpaId;
use sp_api::impl_runtime_apis;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_core::{crypto::KeyTypeId, OpaqueMetadata};
use sp_runtime::{
	traits::{Block as BlockT, NumberFor},
	transaction_validity::{TransactionSource, TransactionValidity},
	ApplyExtrinsicResult,
};
use sp_version::RuntimeVersion;

use super::{
	AccountId, AssetId, Auction, Aura, Balance, Block, BlockNumber, Executive, Grandpa,
	InherentDataExt, Insurance, Liquidation, Margin, Moment, Nonce, Oracle, Perpetuals, Price,
	Prices, Runtime, RuntimeCall, RuntimeGenesisConfig, SessionKeys, System, TransactionPayment,
	VERSION,
};

/// Identifies an oracle in `OracleApi` queries. This runtime has one, [`ORACLE_PROVIDER`].
pub type OracleProviderId = u8;
/// The id of the runtime's only oracle (the `orml-oracle` instance fed by the operators).
pub const ORACLE_PROVIDER: OracleProviderId = 0;
/// A combined oracle value with the time it was formed.
pub type OracleValue = TimestampedValue<Price, Moment>;

impl_runtime_apis! {
	impl sp_api::Core<Block> for Runtime {
		fn version() -> RuntimeVersion {
			VERSION
		}

		fn execute_block(block: Block) {
			Executive::execute_block(block);
		}

		fn initialize_block(header: &<Block as BlockT>::Header) -> sp_runtime::ExtrinsicInclusionMode {
			Executive::initialize_block(header)
		}
	}

	impl sp_api::Metadata<Block> for Runtime {
		fn metadata() -> OpaqueMetadata {
			OpaqueMetadata::new(Runtime::metadata().into())
		}

		fn metadata_at_version(version: u32) -> Option<OpaqueMetadata> {
			Runtime::metadata_at_version(version)
		}

		fn metadata_versions() -> Vec<u32> {
			Runtime::metadata_versions()
		}
	}

	impl sp_block_builder::BlockBuilder<Block> for Runtime {
		fn apply_extrinsic(extrinsic: <Block as BlockT>::Extrinsic) -> ApplyExtrinsicResult {
			Executive::apply_extrinsic(extrinsic)
		}

		fn finalize_block() -> <Block as BlockT>::Header {
			Executive::finalize_block()
		}

		fn inherent_extrinsics(data: sp_inherents::InherentData) -> Vec<<Block as BlockT>::Extrinsic> {
			data.create_extrinsics()
		}

		fn check_inherents(
			block: Block,
			data: sp_inherents::InherentData,
		) -> sp_inherents::CheckInherentsResult {
			data.check_extrinsics(&block)
		}
	}

	impl sp_transaction_pool::runtime_api::TaggedTransactionQueue<Block> for Runtime {
		fn validate_transaction(
			source: TransactionSource,
			tx: <Block as BlockT>::Extrinsic,
			block_hash: <Block as BlockT>::Hash,
		) -> TransactionValidity {
			Executive::validate_transaction(source, tx, block_hash)
		}
	}

	impl sp_offchain::OffchainWorkerApi<Block> for Runtime {
		fn offchain_worker(header: &<Block as BlockT>::Header) {
			Executive::offchain_worker(header)
		}
	}

	impl sp_consensus_aura::AuraApi<Block, AuraId> for Runtime {
		fn slot_duration() -> sp_consensus_aura::SlotDuration {
			sp_consensus_aura::SlotDuration::from_millis(Aura::slot_duration())
		}

		fn authorities() -> Vec<AuraId> {
			pallet_aura::Authorities::<Runtime>::get().into_inner()
		}
	}

	impl sp_session::SessionKeys<Block> for Runtime {
		fn generate_session_keys(seed: Option<Vec<u8>>) -> Vec<u8> {
			SessionKeys::generate(seed)
		}

		fn decode_session_keys(encoded: Vec<u8>) -> Option<Vec<(Vec<u8>, KeyTypeId)>> {
			SessionKeys::decode_into_raw_public_keys(&encoded)
		}
	}

	impl sp_consensus_grandpa::GrandpaApi<Block> for Runtime {
		fn grandpa_authorities() -> sp_consensus_grandpa::AuthorityList {
			Grandpa::grandpa_authorities()
		}

		fn current_set_id() -> sp_consensus_grandpa::SetId {
			Grandpa::current_set_id()
		}

		fn submit_report_equivocation_unsigned_extrinsic(
			_equivocation_proof: sp_consensus_grandpa::EquivocationProof<
				<Block as BlockT>::Hash,
				NumberFor<Block>,
			>,
			_key_owner_proof: sp_consensus_grandpa::OpaqueKeyOwnershipProof,
		) -> Option<()> {
			None
		}

		fn generate_key_ownership_proof(
			_set_id: sp_consensus_grandpa::SetId,
			_authority_id: GrandpaId,
		) -> Option<sp_consensus_grandpa::OpaqueKeyOwnershipProof> {
			// Without a session pallet there is no key ownership to prove (the proof type is
			// `Void`): equivocations are not reported on this chain.
			None
		}
	}

	impl frame_system_rpc_runtime_api::AccountNonceApi<Block, AccountId, Nonce> for Runtime {
		fn account_nonce(account: AccountId) -> Nonce {
			System::account_nonce(account)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentApi<Block, Balance> for Runtime {
		fn query_info(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment_rpc_runtime_api::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_info(uxt, len)
		}
		fn query_fee_details(
			uxt: <Block as BlockT>::Extrinsic,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_fee_details(uxt, len)
		}
		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}
		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl pallet_transaction_payment_rpc_runtime_api::TransactionPaymentCallApi<Block, Balance, RuntimeCall>
		for Runtime
	{
		fn query_call_info(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::RuntimeDispatchInfo<Balance> {
			TransactionPayment::query_call_info(call, len)
		}
		fn query_call_fee_details(
			call: RuntimeCall,
			len: u32,
		) -> pallet_transaction_payment::FeeDetails<Balance> {
			TransactionPayment::query_call_fee_details(call, len)
		}
		fn query_weight_to_fee(weight: Weight) -> Balance {
			TransactionPayment::weight_to_fee(weight)
		}
		fn query_length_to_fee(length: u32) -> Balance {
			TransactionPayment::length_to_fee(length)
		}
	}

	impl orml_oracle_runtime_api::OracleApi<Block, OracleProviderId, AssetId, OracleValue> for Runtime {
		fn get_value(provider_id: OracleProviderId, key: AssetId) -> Option<OracleValue> {
			if provider_id != ORACLE_PROVIDER {
				return None;
			}
			Oracle::get(&key)
		}

		fn get_all_values(provider_id: OracleProviderId) -> Vec<(AssetId, Option<OracleValue>)> {
			if provider_id != ORACLE_PROVIDER {
				return Vec::new();
			}
			Oracle::get_all_values()
		}
	}

	impl pallet_insurance_runtime_api::InsuranceApi<Block, AssetId, AccountId> for Runtime {
		fn fund(asset: AssetId) -> pallet_insurance_runtime_api::FundReport {
			Insurance::fund_report(asset)
		}

		fn stake_of(asset: AssetId, who: AccountId) -> (Balance, Balance) {
			let shares = Insurance::shares_of(asset, &who);
			(shares, Insurance::value_of_shares(asset, shares))
		}

		fn coverage_of(asset: AssetId, amount: Balance) -> Balance {
			Insurance::coverage_of(asset, amount)
		}
	}

	impl pallet_auction_runtime_api::AuctionApi<Block, AccountId, AssetId, BlockNumber> for Runtime {
		fn auctions() -> Vec<pallet_auction_runtime_api::AuctionReport<AccountId, AssetId, BlockNumber>> {
			Auction::auction_reports()
		}

		fn auction(
			id: pallet_auction_runtime_api::AuctionId,
		) -> Option<pallet_auction_runtime_api::AuctionReport<AccountId, AssetId, BlockNumber>> {
			Auction::auction_report(id)
		}
	}

	#[api_version(2)]
	impl
		pallet_liquidation_runtime_api::LiquidationApi<
			Block,
			AccountId,
			AssetId,
			pallet_margin::RiskCursor<AccountId>,
		> for Runtime
	{
		fn liquidatable_accounts(
			start_after: Option<AccountId>,
			limit: u32,
		) -> (Vec<(AccountId, liquidation_primitives::UsdValue)>, Option<AccountId>) {
			Liquidation::liquidatable_accounts(start_after, limit)
		}

		fn liquidatable_accounts_at_risk(
			start_after: Option<pallet_margin::RiskCursor<AccountId>>,
			limit: u32,
		) -> (
			Vec<(AccountId, liquidation_primitives::UsdValue)>,
			Option<pallet_margin::RiskCursor<AccountId>>,
		) {
			Liquidation::liquidatable_accounts_at_risk(start_after.as_ref(), limit)
		}

		fn preview(
			who: AccountId,
			assets: Option<(AssetId, AssetId)>,
		) -> Result<pallet_liquidation_runtime_api::Plan<AssetId>, sp_runtime::DispatchError> {
			Liquidation::preview(&who, assets)
		}

		fn totals(asset: AssetId) -> pallet_liquidation_runtime_api::LiquidationTotals {
			pallet_liquidation::Totals::<Runtime>::get(asset)
		}

		fn preview_position(
			who: AccountId,
			underlying: Option<AssetId>,
		) -> Result<
			pallet_liquidation_runtime_api::PositionCloseOut<AssetId>,
			sp_runtime::DispatchError,
		> {
			Liquidation::preview_position(&who, underlying)
		}

		fn position_totals(underlying: AssetId) -> pallet_liquidation_runtime_api::PositionTotals {
			pallet_liquidation::PositionCloseOuts::<Runtime>::get(underlying)
		}

		fn pending_shortfalls(
		) -> Vec<pallet_liquidation_runtime_api::PendingShortfall<AssetId, AccountId, u32>> {
			Liquidation::pending_shortfalls()
		}

		fn deleveraging(
			underlying: AssetId,
			long: bool,
		) -> Vec<pallet_liquidation_runtime_api::DeleverageRank<AccountId>> {
			Liquidation::deleveraging_preview(underlying, long)
		}

		fn stress_test(
			shocks: Vec<(AssetId, i32)>,
			start_after: Option<pallet_margin::RiskCursor<AccountId>>,
			limit: u32,
		) -> Result<
			pallet_liquidation_runtime_api::StressReport<AssetId, pallet_margin::RiskCursor<AccountId>>,
			sp_runtime::DispatchError,
		> {
			Liquidation::stress_test(&shocks, start_after.as_ref(), limit)
		}

		fn risk_report(
			who: AccountId,
		) -> Result<pallet_liquidation_runtime_api::RiskReport<AssetId>, sp_runtime::DispatchError> {
			Liquidation::risk_report(&who, None)
		}

		fn derisk_candidates(
			start_after: Option<AccountId>,
			limit: u32,
		) -> (Vec<(AccountId, liquidation_primitives::UsdValue)>, Option<AccountId>) {
			Liquidation::derisk_candidates(start_after, limit)
		}

		fn stress_cascade(
			drops_percent: Vec<u8>,
			limit: u32,
		) -> Result<
			Vec<pallet_liquidation_runtime_api::CascadeStep<AssetId, pallet_margin::RiskCursor<AccountId>>>,
			sp_runtime::DispatchError,
		> {
			Liquidation::stress_cascade(&drops_percent, limit)
		}
	}

	impl pallet_perpetuals_runtime_api::PerpetualsApi<Block, AccountId, AssetId> for Runtime {
		fn markets() -> Vec<pallet_perpetuals_runtime_api::MarketReport<AssetId>> {
			Perpetuals::market_reports()
		}

		fn positions(who: AccountId) -> Vec<pallet_perpetuals_runtime_api::PositionReport<AssetId>> {
			Perpetuals::position_reports(&who)
		}

		fn vault() -> Option<pallet_perpetuals_runtime_api::VaultReport> {
			Perpetuals::vault_report()
		}

		fn profit_owed(who: AccountId) -> u128 {
			pallet_perpetuals::ProfitOwed::<Runtime>::get(&who)
		}

		fn positions_at_loss(
			underlying: AssetId,
			start_after: Option<AccountId>,
			count: u32,
		) -> (Vec<(AccountId, pallet_perpetuals_runtime_api::UsdValue)>, Option<AccountId>) {
			// A page is bounded as a block's idle read would be.
			Perpetuals::positions_at_loss(underlying, start_after, count.min(1_000))
		}
	}

	impl pallet_margin_runtime_api::MarginApi<Block, AssetId, AccountId> for Runtime {
		fn account_health(
			who: AccountId,
		) -> Result<pallet_margin_runtime_api::AccountHealth, liquidation_primitives::HealthError<AssetId>> {
			Margin::account_health(&who)
		}

		fn positions(who: AccountId) -> Vec<(AssetId, Balance, Balance)> {
			Margin::positions(&who)
		}

		fn pool(asset: AssetId) -> Option<pallet_margin_runtime_api::PoolReport> {
			Margin::pool_report(asset)
		}

		fn pools() -> Vec<(AssetId, pallet_margin_runtime_api::PoolReport)> {
			Margin::pool_reports()
		}
	}

	impl pallet_prices_runtime_api::PricesApi<Block, AssetId> for Runtime {
		fn price(asset: AssetId) -> pallet_prices_runtime_api::PriceReport {
			Prices::price_report(&asset)
		}

		fn all_prices() -> Vec<(AssetId, pallet_prices_runtime_api::PriceReport)> {
			Prices::all_price_reports()
		}
	}

	#[cfg(feature = "runtime-benchmarks")]
	impl frame_benchmarking::Benchmark<Block> for Runtime {
		fn benchmark_metadata(extra: bool) -> (
			Vec<frame_benchmarking::BenchmarkList>,
			Vec<frame_support::traits::StorageInfo>,
		) {
			use frame_benchmarking::{baseline, BenchmarkList};
			use frame_support::traits::StorageInfoTrait;
			use frame_system_benchmarking::Pallet as SystemBench;
			use baseline::Pallet as BaselineBench;
			use super::*;

			let mut list = Vec::<BenchmarkList>::new();
			list_benchmarks!(list, extra);

			let storage_info = AllPalletsWithSystem::storage_info();

			(list, storage_info)
		}

		fn dispatch_benchmark(
			config: frame_benchmarking::BenchmarkConfig
		) -> Result<Vec<frame_benchmarking::BenchmarkBatch>, alloc::string::String> {
			use frame_benchmarking::{baseline, BenchmarkBatch};
			use sp_storage::TrackedStorageKey;
			use frame_system_benchmarking::Pallet as SystemBench;
			use baseline::Pallet as BaselineBench;
			use super::*;

			impl frame_system_benchmarking::Config for Runtime {}
			impl baseline::Config for Runtime {}

			use frame_support::traits::WhitelistedStorageKeys;
			let whitelist: Vec<TrackedStorageKey> = AllPalletsWithSystem::whitelisted_storage_keys();

			let mut batches = Vec::<BenchmarkBatch>::new();
			let params = (&config, &whitelist);
			add_benchmarks!(params, batches);

			Ok(batches)
		}
	}

	#[cfg(feature = "try-runtime")]
	impl frame_try_runtime::TryRuntime<Block> for Runtime {
		fn on_runtime_upgrade(checks: frame_try_runtime::UpgradeCheckSelect) -> (Weight, Weight) {
			// try-runtime is an off-chain tool: a failed check should stop it loudly.
			#[allow(clippy::unwrap_used)]
			let weight = Executive::try_runtime_upgrade(checks).unwrap();
			(weight, super::configs::RuntimeBlockWeights::get().max_block)
		}

		fn execute_block(
			block: Block,
			state_root_check: bool,
			signature_check: bool,
			select: frame_try_runtime::TryStateSelect
		) -> Weight {
			#[allow(clippy::expect_used)]
			Executive::try_execute_block(block, state_root_check, signature_check, select)
				.expect("execute-block failed")
		}
	}

	impl sp_genesis_builder::GenesisBuilder<Block> for Runtime {
		fn build_state(config: Vec<u8>) -> sp_genesis_builder::Result {
			build_state::<RuntimeGenesisConfig>(config)
		}

		fn get_preset(id: &Option<sp_genesis_builder::PresetId>) -> Option<Vec<u8>> {
			get_preset::<RuntimeGenesisConfig>(id, crate::genesis_config_presets::get_preset)
		}

		fn preset_names() -> Vec<sp_genesis_builder::PresetId> {
			crate::genesis_config_presets::preset_names()
		}
	}
}
