#!/usr/bin/env bash
# Make sure a Java 17+ runtime is present for the Spark tests (scanwise audit --engine spark).
# Installs Debian's headless JRE with apt-get when java is missing or too old; nothing is
# downloaded from anywhere else.
set -euo pipefail

java_major() {
    java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'
}
if command -v java >/dev/null 2>&1 && [ "$(java_major)" -ge 17 ] 2>/dev/null; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_java: Java 17+ is missing and apt-get is not available; install a JRE by hand" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "ensure_java: Java 17+ is missing and installing it needs root (no sudo found)" >&2
        exit 1
    fi
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { $SUDO apt-get update -qq && \
       DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends default-jre-headless; } \
       >"$log" 2>&1; then
    cat "$log" >&2
    echo "ensure_java: installing default-jre-headless with apt-get failed (output above)" >&2
    exit 1
fi
if ! command -v java >/dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; then
    echo "ensure_java: apt-get finished but no Java 17+ is on PATH" >&2
    exit 1
fi
