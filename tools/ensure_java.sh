#!/usr/bin/env bash
# Make sure a Java 17+ runtime is present for the Spark tests (scanwise audit --engine spark):
# Debian's headless JRE, installed with apt-get when java is missing or too old.
set -euo pipefail
. "$(dirname "$0")/apt_ensure.sh"

java_17() {
    command -v java >/dev/null 2>&1 || return 1
    local major
    major=$(java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}')
    [ "${major:-0}" -ge 17 ] 2>/dev/null
}
ensure_with_apt ensure_java "Java 17+" default-jre-headless java_17
