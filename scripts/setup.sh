#!/usr/bin/env bash
# One-time machine setup for building and testing this project.
#
# Installs what the Rust toolchain alone does not bring:
#   - the wasm targets the runtime is compiled to (wasm32-unknown-unknown for the
#     current substrate-wasm-builder, wasm32v1-none for newer toolchains) and rust-src;
#   - protoc (libp2p / litep2p build scripts) and clang + libclang (bindgen for the
#     node's C dependencies).
# Safe to run again: every step is idempotent.
set -euo pipefail

rustup target add wasm32-unknown-unknown wasm32v1-none
rustup component add rust-src rustfmt

need_apt=()
command -v protoc >/dev/null 2>&1 || need_apt+=(protobuf-compiler)
command -v clang >/dev/null 2>&1 || need_apt+=(clang)
# libclang is found by bindgen through llvm-config or a libclang.so on the library path.
if ! ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 && ! ldconfig -p 2>/dev/null | grep -q libclang; then
  need_apt+=(libclang-dev)
fi

if [ "${#need_apt[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

echo "setup: rust targets, rust-src, protoc $(protoc --version | cut -d' ' -f2), $(clang --version | head -n1)"
